#!/bin/sh
# Installs the Debian tools the tests use as independent judges of our output, and the source
# packages wasm/build.sh rebuilds liblzma and libzstd from. Idempotent: quick when all is there.
set -eu
PACKAGES="nix-bin xorriso libarchive-tools genisoimage squashfs-tools squashfs-tools-ng isolinux syslinux-common
  syslinux-utils mtools dosfstools e2fsprogs qemu-system-x86 qemu-utils gdisk parted fdisk ovmf qemu-system-arm qemu-efi-aarch64 systemd-boot-efi busybox-static chromium xz-utils zstd gzip tar cpio jq kmod sqlite3
  clang lld wasi-libc libclang-rt-14-dev-wasm32"
SRC_LIST=/etc/apt/sources.list.d/nix-imager-src.sources

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# `apt-get source` needs a deb-src entry; add one for Debian's main archive unless some list has it.
need_src=false
grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/ || need_src=true

# The aarch64 boot tests download (not install) Debian's arm64 kernel, busybox and systemd-boot.
need_arm64=false
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64=true

if [ -n "$missing" ] || $need_src || $need_arm64; then
  [ "$(id -u)" = 0 ] || { echo "setup-system: need root to apt-get install:$missing" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  if $need_src; then
    echo "setup-system: adding deb-src entries ($SRC_LIST)" >&2
    printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm bookworm-updates' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' > "$SRC_LIST"
  fi
  if $need_arm64; then
    echo "setup-system: adding the arm64 architecture (for apt-get download of arm64 packages)" >&2
    dpkg --add-architecture arm64
  fi
  apt-get update -qq
  if [ -n "$missing" ]; then
    echo "setup-system: installing$missing" >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi
