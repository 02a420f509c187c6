# t0012-fuzz-regress.sh - files that crashed, hung or stalled eeprof (fuzzing, issue 13) are
# each answered with exit 3 and one "eeprof: error:" line, within 2 s of CPU time (ulimit -t;
# a wall-clock limit would fail on a loaded machine) and 60 s of wall time.
# tests/fuzz/regress/<target>/ holds the committed corpus (tests/fuzz/mkregress.py, and
# what the fuzz targets found); the campaign's original 213 KB reproducers are replayed too
# when ../shared/fuzz-repro (or $EE_FUZZ_REPRO) exists.
. tests/cli/lib.sh

replay() { # what file command...
	what=$1 file=$2; shift 2
	( ulimit -t 2; exec timeout 60 "$EEPROF" "$@" "$file" ) >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^eeprof: error: " "$T/err"; then
		ok "$what $(basename "$file")"
	else
		not_ok "$what $(basename "$file"): status $rc (want 3), stderr:"
		sed 's/^/    /' "$T/err" | head -3
	fi
}

repro=${EE_FUZZ_REPRO:-}
for d in ../shared/fuzz-repro ../../shared/fuzz-repro; do
	[ -z "$repro" ] && [ -d "$d" ] && repro=$d
done
for f in tests/fuzz/regress/ckpt/* ${repro:+$repro/ckpt-*}; do
	[ -f "$f" ] || continue
	replay "info" "$f" info
	( ulimit -t 2; exec timeout 60 "$EEPROF" eval checkpoints/samples/resnet20-fmnist.h5 \
		--data "h5:$f" ) >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "eval --data h5:$(basename "$f")"
	else not_ok "eval --data h5:$(basename "$f"): status $rc"; sed 's/^/    /' "$T/err" | head -3; fi
done
for f in tests/fuzz/regress/trace/* ${repro:+$repro/trace-*}; do
	[ -f "$f" ] || continue
	replay curve "$f" curve
	replay gates "$f" gates
	replay budget "$f" budget "$f" --budget 50% --val
	replay merge "$f" merge -o "$T/merged.h5"
	replay "report --traces" "$f" report --no-plots -o "$T/rep" --traces
	no_file "merge $(basename "$f"): no output" "$T/merged.h5"
	no_file "report $(basename "$f"): no output" "$T/rep"
done

# The error names what is malformed: core/h5check.c walks the root group's object header
# before H5Fopen, and any other object's before its attributes are read (libhdf5 1.10.8
# decodes every attribute message of an object without bounds checks to find one).
expect_fail "curve: a root attribute's dataspace past its message is named" 3 \
	"corrupt HDF5 root group \(attribute 'checkpoint_sha256': a datatype or dataspace longer" \
	"$EEPROF" curve tests/fuzz/regress/trace/trace-attr-overflow.h5
expect_fail "curve: a root continuation chunk of 16 PB is refused" 3 \
	"corrupt HDF5 root group \(an object header chunk of a wrong size\)" \
	"$EEPROF" curve tests/fuzz/regress/trace/trace-root-continuation.h5
# attr_space FILE NAME OUT: a copy of FILE whose attribute NAME (message version 1) claims
# a 1288-byte dataspace
attr_space() {
	$PY - "$@" <<'PYEOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
name = sys.argv[2].encode() + b"\0"
at = b.index(name)
assert b[at - 8] == 1 and struct.unpack("<H", b[at - 6:at - 4])[0] == len(name)
b[at - 2:at] = struct.pack("<H", 0x508)
open(sys.argv[3], "wb").write(b)
PYEOF
}
attr_space tests/fuzz/corpus/trace/resnet-cifar.h5 batch "$T/group-attr.h5"
expect_fail "curve: a malformed attribute of group 'timing' is named" 3 \
	"group '/timing' has a malformed attribute 'batch' \(a datatype or dataspace longer" \
	"$EEPROF" curve "$T/group-attr.h5"
attr_space checkpoints/samples/resnet20-fmnist.h5 num_classes "$T/ckpt-attr.h5"
expect_fail "info: a malformed checkpoint attribute is named" 3 \
	"checkpoint '.*ckpt-attr.h5': corrupt HDF5 root group \(attribute 'num_classes'" \
	"$EEPROF" info "$T/ckpt-attr.h5"
expect_fail "eval --data h5: a malformed dataset attribute is named" 3 \
	"dataset '.*ckpt-attr.h5': corrupt HDF5 root group \(attribute 'num_classes'" \
	"$EEPROF" eval checkpoints/samples/resnet20-fmnist.h5 --data "h5:$T/ckpt-attr.h5"
