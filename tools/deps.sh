#!/bin/sh
# deps.sh [PACKAGE...] - install the Debian packages eeprof needs, if any is missing.
# Called by `make deps` (and so by `make demo`, `make test` and every build whose package flags
# are not known yet). As root it runs apt-get; otherwise it prints the apt-get command to run
# and fails. With arguments it checks and installs those packages instead of the list below
# (tools/fresh-check.sh uses that for debootstrap).
#
# The list below is the only place that names the packages the build, the tests and the demo
# need: add a package here, one a line, with what needs it. `make check-fresh` proves the list
# complete on a fresh Debian root.
set -eu

packages() {
	sed -e 's/#.*//' <<'LIST'
build-essential         # gcc, make, libc headers
pkg-config              # the Makefile's compile and link flags
libhdf5-dev             # checkpoints and traces (HDF5)
libopenblas-dev         # GEMM behind convolutions and linear layers
libpapi-dev             # hardware counters (and the sde/timer components)
zlib1g-dev              # gzip'd IDX datasets
libjpeg62-turbo-dev     # JPEG images (imagefolder:, imagelist:), decoded as Pillow does
libpng-dev              # PNG images (imagefolder:, imagelist:)
check                   # unit tests (tests/unit)
libopenmpi-dev          # MPI build: distributed profile/eval/report/run (plugins/dist.c)
openmpi-bin             # mpirun: running eeprof on several ranks, and its tests (t0095)
gnuplot-nox             # report plots
help2man                # the man page eeprof(1) (make install)
clang                   # libFuzzer targets (tests/fuzz): make fuzz, and make test's fuzz-smoke
libclang-rt-14-dev      # clang's fuzzer and sanitizer runtimes (-fsanitize=fuzzer,address,undefined)
python3-torch           # parity tests and the exporter (tests/parity, checkpoints/)
python3-h5py            # parity tests and the exporter
python3-numpy           # parity tests and the exporter
python3-pil             # image parity tests (tests/parity/images.py): Pillow's pixels
python3-torchvision     # image parity tests and make bench: torchvision's transforms
python3-skimage         # image parity tests and make bench: its sample photographs
dataset-fashion-mnist   # make demo and the sample checks (/usr/share/datasets/fashion-mnist)
LIST
}

if [ $# -gt 0 ]; then pkgs="$*"; else pkgs=$(packages); fi

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: missing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
