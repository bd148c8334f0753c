#!/bin/sh
# Builds wasm/codecs.wasm (liblzma from xz-utils, libzstd) from Debian bookworm's
# source packages with Debian's clang + wasi-libc, as a wasm32-wasi reactor.
# Usage: wasm/build.sh [OUTPUT]   (default: wasm/codecs.wasm next to this script)
# Needs: a deb-src entry for bookworm, packages clang lld wasi-libc libclang-rt-14-dev-wasm32.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/codecs.wasm}
cache=${WASM_SRC_CACHE:-$here/../test-artifacts/wasm-src}

XZ_TARBALL=xz-utils_5.4.1.orig.tar.xz
XZ_SHA256=5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5
ZSTD_TARBALL=libzstd_1.5.4+dfsg2.orig.tar.xz
ZSTD_SHA256=8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953

fetch() { # source-package tarball sha256
  if [ ! -f "$cache/$2" ]; then
    mkdir -p "$cache"
    (cd "$cache" && apt-get source --download-only "$1" >/dev/null)
  fi
  echo "$3  $cache/$2" | sha256sum -c --quiet -
}
fetch xz-utils "$XZ_TARBALL" "$XZ_SHA256"
fetch libzstd "$ZSTD_TARBALL" "$ZSTD_SHA256"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$cache/$XZ_TARBALL" -C "$work"
tar -xJf "$cache/$ZSTD_TARBALL" -C "$work"
xz=$work/xz-5.4.1/src
zstd=$work/zstd-1.5.4/lib

# Same outcome wherever the sources were unpacked: no paths, no timestamps.
CFLAGS="--target=wasm32-wasi -O2 -DNDEBUG -mbulk-memory -ffile-prefix-map=$work=src"

LZMA_DEFS="-DHAVE_CHECK_CRC32 -DHAVE_CHECK_CRC64 -DHAVE_CHECK_SHA256
  -DHAVE_ENCODERS -DHAVE_DECODERS
  -DHAVE_ENCODER_LZMA1 -DHAVE_ENCODER_LZMA2 -DHAVE_ENCODER_X86 -DHAVE_ENCODER_DELTA
  -DHAVE_DECODER_LZMA1 -DHAVE_DECODER_LZMA2 -DHAVE_DECODER_X86 -DHAVE_DECODER_DELTA
  -DHAVE_DECODER_ARM -DHAVE_DECODER_ARMTHUMB -DHAVE_DECODER_ARM64 -DHAVE_DECODER_IA64
  -DHAVE_DECODER_POWERPC -DHAVE_DECODER_SPARC
  -DHAVE_MF_BT2 -DHAVE_MF_BT3 -DHAVE_MF_BT4 -DHAVE_MF_HC3 -DHAVE_MF_HC4
  -DHAVE_STDBOOL_H -DHAVE__BOOL -DHAVE_STDINT_H -DHAVE_INTTYPES_H
  -DTUKLIB_FAST_UNALIGNED_ACCESS -DTUKLIB_SYMBOL_PREFIX=lzma_ -DHAVE_VISIBILITY=0"
LZMA_INC="-I$here/compat -I$xz/liblzma/api -I$xz/liblzma/common -I$xz/liblzma/check -I$xz/liblzma/lz
  -I$xz/liblzma/rangecoder -I$xz/liblzma/lzma -I$xz/liblzma/delta -I$xz/liblzma/simple -I$xz/common"

l=$xz/liblzma
LZMA_SRC="$(ls $l/common/*.c | grep -v -e hardware_ -e outqueue -e _mt.c -e microlzma -e lzip)
  $l/check/check.c $l/check/crc32_fast.c $l/check/crc32_table.c
  $l/check/crc64_fast.c $l/check/crc64_table.c $l/check/sha256.c
  $l/lz/lz_encoder.c $l/lz/lz_encoder_mf.c $l/lz/lz_decoder.c
  $(ls $l/lzma/*.c | grep -v tablegen) $l/rangecoder/price_table.c
  $l/delta/*.c $l/simple/*.c"

mkdir "$work/obj"
for f in $LZMA_SRC "$here/xz-entry.c"; do
  # shellcheck disable=SC2086
  clang $CFLAGS $LZMA_DEFS $LZMA_INC -c "$f" -o "$work/obj/lzma_$(basename "$f" .c).o"
done

ZSTD_DEFS="-DZSTD_DISABLE_ASM -DZSTD_TRACE=0 -DZSTD_LEGACY_SUPPORT=0 -DZSTD_HEAPMODE=1"
for f in $zstd/common/*.c $zstd/compress/*.c $zstd/decompress/*.c "$here/zstd-entry.c"; do
  # shellcheck disable=SC2086
  clang $CFLAGS $ZSTD_DEFS -I$zstd -I$zstd/common -c "$f" -o "$work/obj/zstd_$(basename "$f" .c).o"
done

clang $CFLAGS -mexec-model=reactor -Wl,--strip-all -o "$work/codecs.wasm" "$work"/obj/*.o
mv "$work/codecs.wasm" "$out"
echo "built $out ($(wc -c <"$out") bytes)"
