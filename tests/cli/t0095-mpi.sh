# t0095-mpi.sh - eeprof as an MPI program (plugins/dist.h): commands that do not share their
# work out run on rank 0 alone and print once; a failure gives one message and the same
# non-zero status. Skipped, saying why, when mpirun is absent or eeprof is built without MPI.
. tests/cli/lib.sh

if ! command -v mpirun >/dev/null 2>&1; then
	echo "# skipped: no mpirun (make deps installs openmpi-bin)"; exit 0
fi
# As root Open MPI wants to be told; --oversubscribe: more ranks than this machine's cores.
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
S=checkpoints/samples/emgnet20-w8-fmnist.h5

# mpi N CMD...: eeprof CMD on N ranks
mpi() {
	n=$1; shift
	run $MPIRUN -n "$n" "$EEPROF" "$@"
}

mpi 2 info "$S"
if grep -q "built without MPI" "$T/err"; then
	check "a build without MPI refuses to run as 2 processes" "[ $rc -ne 0 ]"
	echo "# skipped: $EEPROF is built without MPI (make MPI=1)"; exit 0
fi
check "info on 2 ranks: status 0" "[ $rc -eq 0 ]"
"$EEPROF" info "$S" >"$T/alone.txt" 2>&1
check "info on 2 ranks prints once, as alone" "cmp -s '$T/out' '$T/alone.txt'"

mpi 3 info "$T/missing.h5"
check "a failure on 3 ranks: status 3" "[ $rc -eq 3 ]"
check "a failure on 3 ranks: one error line" \
	"[ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q \"missing.h5'\" '$T/err'"
mpi 2 --help
check "--help on 2 ranks prints once" "[ $rc -eq 0 ] && [ \$(grep -c '^usage: eeprof' '$T/out') -eq 1 ]"
