// libzstd entry points for the JS side (core/xz/zstd.ts): streaming compression and
// decompression over linear memory, and one-shot frames as mksquashfs writes them.

#include <stddef.h>
#include <stdlib.h>

#define ZSTD_STATIC_LINKING_ONLY
#include "zstd.h"
#include "zstd_errors.h"

#define EXPORT(name) __attribute__((export_name(#name)))

typedef struct {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	size_t in_used;
	size_t out_used;
} zs_coder;

// A streaming compressor at `level`; with `checksum`, frames end with XXH64 like the zstd CLI's.
EXPORT(zs_compressor_new)
zs_coder *zs_compressor_new(int level, int checksum) {
	zs_coder *c = calloc(1, sizeof(zs_coder));
	if (c == NULL)
		return NULL;
	c->cctx = ZSTD_createCCtx();
	if (c->cctx == NULL
			|| ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level))
			|| ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, checksum))) {
		ZSTD_freeCCtx(c->cctx);
		free(c);
		return NULL;
	}
	return c;
}

EXPORT(zs_decompressor_new)
zs_coder *zs_decompressor_new(void) {
	zs_coder *c = calloc(1, sizeof(zs_coder));
	if (c == NULL)
		return NULL;
	c->dctx = ZSTD_createDCtx();
	if (c->dctx == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

// Compresses (end = 1: and ends the frame). Returns ZSTD_compressStream2's value:
// bytes still to flush (0 = done), or an error code (zs_is_error).
EXPORT(zs_compress)
size_t zs_compress(zs_coder *c, const void *in, size_t in_len, void *out, size_t out_cap, int end) {
	ZSTD_inBuffer i = { in, in_len, 0 };
	ZSTD_outBuffer o = { out, out_cap, 0 };
	size_t r = ZSTD_compressStream2(c->cctx, &o, &i, end ? ZSTD_e_end : ZSTD_e_continue);
	c->in_used = i.pos;
	c->out_used = o.pos;
	return r;
}

// Returns ZSTD_decompressStream's value: 0 once a frame is complete and flushed,
// otherwise a hint of input still wanted, or an error code.
EXPORT(zs_decompress)
size_t zs_decompress(zs_coder *c, const void *in, size_t in_len, void *out, size_t out_cap) {
	ZSTD_inBuffer i = { in, in_len, 0 };
	ZSTD_outBuffer o = { out, out_cap, 0 };
	size_t r = ZSTD_decompressStream(c->dctx, &o, &i);
	c->in_used = i.pos;
	c->out_used = o.pos;
	return r;
}

EXPORT(zs_in_used) size_t zs_in_used(zs_coder *c) { return c->in_used; }
EXPORT(zs_out_used) size_t zs_out_used(zs_coder *c) { return c->out_used; }

EXPORT(zs_end)
void zs_end(zs_coder *c) {
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c);
}

// One frame with the content size and no checksum: ZSTD_compressCCtx, as mksquashfs's zstd compressor.
EXPORT(zs_compress_buffer)
size_t zs_compress_buffer(int level, const void *in, size_t in_len, void *out, size_t out_cap) {
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	if (cctx == NULL)
		return (size_t)-ZSTD_error_memory_allocation;
	size_t r = ZSTD_compressCCtx(cctx, out, out_cap, in, in_len, level);
	ZSTD_freeCCtx(cctx);
	return r;
}

// One frame with the content size and an XXH64 checksum, as `zstd --single-thread -<level> FILE`
// writes a file: ZSTD_compress2 with the size known up front.
EXPORT(zs_compress_frame)
size_t zs_compress_frame(int level, const void *in, size_t in_len, void *out, size_t out_cap) {
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	if (cctx == NULL)
		return (size_t)-ZSTD_error_memory_allocation;
	size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(cctx, out, out_cap, in, in_len);
	ZSTD_freeCCtx(cctx);
	return r;
}

EXPORT(zs_bound) size_t zs_bound(size_t n) { return ZSTD_compressBound(n); }
EXPORT(zs_is_error) unsigned zs_is_error(size_t code) { return ZSTD_isError(code); }
EXPORT(zs_error_name) const char *zs_error_name(size_t code) { return ZSTD_getErrorName(code); }
