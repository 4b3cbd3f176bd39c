#!/usr/bin/env bash
# Install what tracestub needs to build and test, from Debian's packages. Idempotent, and
# quiet when everything is already there. Called by the Makefile; safe to run by hand.
set -eu
pkgs=(make gcc g++ binutils lld clang clang-format libclang-rt-14-dev libelf-dev libdwarf-dev libiberty-dev zlib1g-dev libcurl4-openssl-dev
      libzydis-dev gdb gdbserver lldb python3-lldb-14 golang-go postgresql perl procps psmisc libc6-dbg)
# A Rust compiler for the Rust fixture: rustup's when there is one, else Debian's.
command -v rustc >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/rustc" ] || pkgs+=(rustc)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
