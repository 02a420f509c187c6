#!/bin/sh
# deps.sh - install the Debian packages eeprof needs, if any is missing.
# Called by `make deps` (and so by `make demo` and `make test`). As root it runs
# apt-get; otherwise it prints the apt-get command to run and fails.
set -eu

pkgs="build-essential pkg-config libopenblas-dev libhdf5-dev libpapi-dev check gnuplot-nox
zlib1g-dev python3-torch python3-h5py python3-numpy dataset-fashion-mnist"

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
