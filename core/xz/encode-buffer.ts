import { fetchedCodecs, type Codecs, type CodecsLoader } from '../codec/wasm-codecs.ts';
import { CHECK_ID, checkPreset, expectOk, type EncoderOptions, type XzCheck } from './liblzma.ts';

export interface XzBufferOptions {
  preset?: number;
  extreme?: boolean;
  check?: XzCheck;
  dictSize?: number;
  bcj?: 'x86' | null;
}

/**
 * One complete .xz stream of `data` with both sizes in the block header, byte-identical to
 * liblzma's lzma_stream_buffer_encode (what mksquashfs writes per squashfs block).
 */
export function encodeXzBuffer(w: Codecs, data: Uint8Array, o: EncoderOptions): Uint8Array {
  checkPreset(o.preset);
  const cap = w.x.xz_buffer_bound(data.length);
  const input = w.put(data);
  const out = w.alloc(cap + 4);
  try {
    const lenPtr = out + cap;
    const ret = w.x.xz_buffer_encode(
      o.preset, o.extreme ? 1 : 0, CHECK_ID[o.check], o.dictSize ?? 0,
      o.bcj === 'x86' ? 1 : 0, input, data.length, out, cap, lenPtr,
    );
    expectOk(ret, 'xz buffer encoder');
    const len = new DataView(w.x.memory.buffer).getUint32(lenPtr, true);
    return w.copyOut(out, len);
  } finally {
    w.x.xz_free(input);
    w.x.xz_free(out);
  }
}

/** xzEncodeBuffer in this thread (for a pool worker: the 'xz' CodecJob). Defaults: preset 6, CRC64, no BCJ. */
export async function xzEncodeBuffer(data: Uint8Array, opts: XzBufferOptions = {}, codecs: CodecsLoader = fetchedCodecs): Promise<Uint8Array> {
  return encodeXzBuffer(await codecs.instance(), data, {
    preset: opts.preset ?? 6,
    extreme: opts.extreme ?? false,
    check: opts.check ?? 'crc64',
    dictSize: opts.dictSize,
    bcj: opts.bcj ?? null,
  });
}
