#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages iovabench needs, only those missing.
#
#   ./scripts/install-deps.sh
#
# Checks each package with dpkg-query and runs apt-get (update, then install) only when
# something is missing, so a second run changes nothing and needs no network.
# Needs root, or sudo for a normal user. Exit status: 0 when everything is installed.
set -euo pipefail

packages=(
	# build
	cmake make gcc g++ pkg-config
	# libraries the project uses (DEVELOPERS.md)
	libjemalloc-dev libhwloc-dev libbenchmark-dev libinih-dev libjansson-dev libzip-dev
	# plots, helper scripts
	gnuplot-nox python3
	# clang with its runtimes: the clang build and the libFuzzer fuzz target
	clang libclang-rt-14-dev
	# version stamping
	git
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: installing them needs root, and sudo is not available; run as root:" >&2
	echo "  apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
