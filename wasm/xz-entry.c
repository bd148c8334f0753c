// liblzma entry points for the JS side (core/xz/liblzma.ts).
// One xz_coder is one streaming job: JS copies input into linear memory,
// calls xz_code() until the input is used, and copies the output out.
// Memory stays bounded by what liblzma allocates for its own dictionary.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "block_buffer_encoder.h"
#include "check.h"

#define EXPORT(name) __attribute__((export_name(#name)))

// Returned by xz_code() in block mode when the compressed data would not fit
// in lzma_block_buffer_bound(): the caller then stores the block uncompressed,
// as liblzma's multithreaded encoder does.
#define XZ_INCOMPRESSIBLE 100

// Same as lzma2_bound() in liblzma's block_buffer_encoder.c: the size of
// LZMA2 uncompressed chunks (64 KiB each, 3-byte header) plus the end marker.
static uint64_t lzma2_uncompressed_size(uint64_t n) {
	return (n + 65535) / 65536 * 3 + n + 1;
}

typedef struct {
	lzma_stream strm;
	lzma_options_lzma lzma;
	lzma_options_bcj bcj;
	lzma_filter filters[3];
	// Block mode only (the parallel writer): the block header is written
	// after the data, once its sizes are known.
	int block_mode;
	lzma_block block;
	uint64_t out_limit;
	lzma_check_state check;
	size_t in_used;
	size_t out_used;
} xz_coder;

EXPORT(xz_alloc) void *xz_alloc(size_t n) { return malloc(n); }
EXPORT(xz_free) void xz_free(void *p) { free(p); }

static int set_filters(xz_coder *c, uint32_t preset, int extreme, uint32_t dict_size, int bcj) {
	if (lzma_lzma_preset(&c->lzma, preset | (extreme ? LZMA_PRESET_EXTREME : 0)))
		return 0;
	if (dict_size != 0)
		c->lzma.dict_size = dict_size;
	int n = 0;
	if (bcj) {
		c->filters[n].id = LZMA_FILTER_X86;
		c->filters[n].options = NULL;
		n++;
	}
	c->filters[n].id = LZMA_FILTER_LZMA2;
	c->filters[n].options = &c->lzma;
	n++;
	c->filters[n].id = LZMA_VLI_UNKNOWN;
	c->filters[n].options = NULL;
	return 1;
}

static xz_coder *coder_new(void) {
	xz_coder *c = calloc(1, sizeof(xz_coder));
	if (c == NULL)
		return NULL;
	lzma_stream init = LZMA_STREAM_INIT;
	c->strm = init;
	return c;
}

// A whole .xz stream, like `xz -T1`: no sizes in the block header.
EXPORT(xz_encoder_new)
xz_coder *xz_encoder_new(uint32_t preset, int extreme, int check, uint32_t dict_size, int bcj) {
	xz_coder *c = coder_new();
	if (c == NULL)
		return NULL;
	if (!set_filters(c, preset, extreme, dict_size, bcj)
			|| lzma_stream_encoder(&c->strm, c->filters, (lzma_check)check) != LZMA_OK) {
		free(c);
		return NULL;
	}
	return c;
}

// One block as liblzma's multithreaded encoder makes it: the header space
// is reserved for the largest sizes a block of `block_size` can have, and
// filled with the real sizes at the end (xz_block_header).
EXPORT(xz_block_encoder_new)
xz_coder *xz_block_encoder_new(uint32_t preset, int extreme, int check, uint64_t block_size) {
	xz_coder *c = coder_new();
	if (c == NULL)
		return NULL;
	uint64_t bound = lzma_block_buffer_bound64(block_size);
	c->block_mode = 1;
	c->block.version = 0;
	c->block.check = (lzma_check)check;
	c->block.compressed_size = bound;
	c->block.uncompressed_size = block_size;
	c->block.filters = c->filters;
	if (bound == 0 || !set_filters(c, preset, extreme, 0, 0)
			|| lzma_block_header_size(&c->block) != LZMA_OK
			|| lzma_block_encoder(&c->strm, &c->block) != LZMA_OK) {
		free(c);
		return NULL;
	}
	c->out_limit = bound - c->block.header_size;
	return c;
}

EXPORT(xz_decoder_new)
xz_coder *xz_decoder_new(void) {
	xz_coder *c = coder_new();
	if (c == NULL)
		return NULL;
	if (lzma_stream_decoder(&c->strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
		free(c);
		return NULL;
	}
	return c;
}

// Runs the coder over in[0..in_len) into out[0..out_cap); xz_in_used() and
// xz_out_used() tell how much was consumed and produced. Returns lzma_ret
// (LZMA_OK = 0, LZMA_STREAM_END = 1, errors > 1) or XZ_INCOMPRESSIBLE.
EXPORT(xz_code)
int xz_code(xz_coder *c, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, int finish) {
	size_t cap = out_cap;
	if (c->block_mode) {
		uint64_t room = c->out_limit - c->strm.total_out;
		if (room < cap)
			cap = (size_t)room;
	}
	c->strm.next_in = in;
	c->strm.avail_in = in_len;
	c->strm.next_out = out;
	c->strm.avail_out = cap;
	lzma_ret ret = lzma_code(&c->strm, finish ? LZMA_FINISH : LZMA_RUN);
	c->in_used = in_len - c->strm.avail_in;
	c->out_used = cap - c->strm.avail_out;
	if (c->block_mode && ret == LZMA_OK && c->strm.total_out == c->out_limit)
		return XZ_INCOMPRESSIBLE;
	return (int)ret;
}

EXPORT(xz_in_used) size_t xz_in_used(xz_coder *c) { return c->in_used; }
EXPORT(xz_out_used) size_t xz_out_used(xz_coder *c) { return c->out_used; }

// After LZMA_STREAM_END in block mode: the block header, with both sizes.
EXPORT(xz_block_header)
uint32_t xz_block_header(xz_coder *c, uint8_t *out) {
	if (lzma_block_header_encode(&c->block, out) != LZMA_OK)
		return 0;
	return c->block.header_size;
}

EXPORT(xz_block_unpadded_size)
uint64_t xz_block_unpadded_size(xz_coder *c) { return lzma_block_unpadded_size(&c->block); }

// Incompressible block: header for LZMA2 uncompressed chunks (smallest
// dictionary), then the check over the data fed through xz_check_update.
EXPORT(xz_uncompressed_header)
uint32_t xz_uncompressed_header(xz_coder *c, uint64_t size, uint8_t *out) {
	lzma_options_lzma lzma2 = { .dict_size = LZMA_DICT_SIZE_MIN };
	lzma_filter filters[2] = {
		{ .id = LZMA_FILTER_LZMA2, .options = &lzma2 },
		{ .id = LZMA_VLI_UNKNOWN, .options = NULL },
	};
	c->block.filters = filters;
	c->block.compressed_size = lzma2_uncompressed_size(size);
	c->block.uncompressed_size = size;
	uint32_t n = 0;
	if (lzma_block_header_size(&c->block) == LZMA_OK
			&& lzma_block_header_encode(&c->block, out) == LZMA_OK)
		n = c->block.header_size;
	c->block.filters = c->filters;
	lzma_check_init(&c->check, c->block.check);
	return n;
}

EXPORT(xz_check_update)
void xz_check_update(xz_coder *c, const uint8_t *in, size_t len) {
	lzma_check_update(&c->check, c->block.check, in, len);
}

// Writes the check; returns its size.
EXPORT(xz_check_finish)
uint32_t xz_check_finish(xz_coder *c, uint8_t *out) {
	lzma_check_finish(&c->check, c->block.check);
	uint32_t n = lzma_check_size(c->block.check);
	memcpy(out, c->check.buffer.u8, n);
	return n;
}

EXPORT(xz_end)
void xz_end(xz_coder *c) {
	lzma_end(&c->strm);
	free(c);
}

// One buffer to one .xz stream with both sizes in the block header, as
// mksquashfs's xz compressor (lzma_stream_buffer_encode) writes it.
// Returns lzma_ret; LZMA_BUF_ERROR when it does not fit in out_cap.
EXPORT(xz_buffer_encode)
int xz_buffer_encode(uint32_t preset, int extreme, int check, uint32_t dict_size, int bcj,
		const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len) {
	xz_coder c;
	memset(&c, 0, sizeof c);
	if (!set_filters(&c, preset, extreme, dict_size, bcj))
		return LZMA_OPTIONS_ERROR;
	*out_len = 0;
	return (int)lzma_stream_buffer_encode(c.filters, (lzma_check)check, NULL, in, in_len, out, out_len, out_cap);
}

EXPORT(xz_buffer_bound)
size_t xz_buffer_bound(size_t n) { return lzma_stream_buffer_bound(n); }

EXPORT(xz_crc32)
uint32_t xz_crc32(const uint8_t *in, size_t len, uint32_t crc) { return lzma_crc32(in, len, crc); }
