#!/bin/sh
# Installs the Debian tools the tests use as independent judges of our output.
# Idempotent: does nothing when every package is already installed.
set -eu
PACKAGES="nix-bin xorriso libarchive-tools genisoimage squashfs-tools squashfs-tools-ng isolinux syslinux-common
  syslinux-utils mtools dosfstools qemu-system-x86 busybox-static chromium xz-utils zstd gzip tar cpio jq kmod
  clang lld wasi-libc libclang-rt-14-dev-wasm32"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || { echo "setup-system: need root to apt-get install:$missing" >&2; exit 1; }
  echo "setup-system: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
