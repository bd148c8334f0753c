import type { Codecs } from '../codec/wasm-codecs.ts';
import { XzError, lzmaRetMessage } from './xz-error.ts';

export type XzCheck = 'none' | 'crc32' | 'crc64' | 'sha256';

/** lzma_check ids, also the check field of the stream flags. */
export const CHECK_ID: Record<XzCheck, number> = { none: 0, crc32: 1, crc64: 4, sha256: 10 };
export const CHECK_SIZE: Record<XzCheck, number> = { none: 0, crc32: 4, crc64: 8, sha256: 32 };

export const LZMA_OK = 0;
export const LZMA_STREAM_END = 1;
/** xz_code() in block mode: the block does not compress (see wasm/xz-entry.c). */
export const XZ_INCOMPRESSIBLE = 100;

/** Bytes moved through linear memory per call: bounds the wasm memory beyond liblzma's own. */
const CHUNK = 1 << 20;

export interface EncoderOptions {
  preset: number;
  extreme?: boolean;
  check: XzCheck;
  dictSize?: number;
  bcj?: 'x86' | null;
}

export function checkPreset(preset: number): void {
  if (!Number.isInteger(preset) || preset < 0 || preset > 9) throw new XzError(`xz preset must be an integer 0-9, got ${preset}`);
}

/** A liblzma coder living in a Codecs instance, fed and drained chunk by chunk. */
export class LzmaCoder {
  private readonly inBuf: number;
  private readonly outBuf: number;
  private ended = false;

  private constructor(
    readonly w: Codecs,
    readonly ptr: number,
  ) {
    this.inBuf = w.alloc(CHUNK);
    this.outBuf = w.alloc(CHUNK);
  }

  private static make(w: Codecs, ptr: number, what: string): LzmaCoder {
    if (ptr === 0) throw new XzError(`liblzma could not set up the ${what} (bad options or out of memory)`);
    return new LzmaCoder(w, ptr);
  }

  /** A whole .xz stream, byte-identical to `xz -T1` with the same options. */
  static encoder(w: Codecs, o: EncoderOptions): LzmaCoder {
    checkPreset(o.preset);
    const p = w.x.xz_encoder_new(o.preset, o.extreme ? 1 : 0, CHECK_ID[o.check], o.dictSize ?? 0, o.bcj === 'x86' ? 1 : 0);
    return LzmaCoder.make(w, p, 'xz encoder');
  }

  /** One block as liblzma's multithreaded encoder writes it (sizes in the header). */
  static blockEncoder(w: Codecs, o: EncoderOptions, blockSize: number): LzmaCoder {
    checkPreset(o.preset);
    const p = w.x.xz_block_encoder_new(o.preset, o.extreme ? 1 : 0, CHECK_ID[o.check], BigInt(blockSize));
    return LzmaCoder.make(w, p, 'xz block encoder');
  }

  /** Decodes one or more concatenated .xz streams. */
  static decoder(w: Codecs): LzmaCoder {
    return LzmaCoder.make(w, w.x.xz_decoder_new(), 'xz decoder');
  }

  /**
   * Feeds all of `input` and passes every output byte to `emit`; with `finish`, runs to the
   * end of the stream. Returns the last lzma_ret (LZMA_OK, LZMA_STREAM_END, XZ_INCOMPRESSIBLE or an error).
   */
  code(input: Uint8Array, finish: boolean, emit: (chunk: Uint8Array) => void): number {
    return drive(this.steps(input, finish), emit);
  }

  /**
   * Like code(), one output chunk (a copy, at most 1 MiB) per step: the consumer decides whether
   * to go on, so a small input that expands without end (a decompression bomb) costs one chunk.
   * The generator's return value is the last lzma_ret.
   */
  *steps(input: Uint8Array, finish: boolean): Generator<Uint8Array, number> {
    let offset = 0;
    do {
      const n = Math.min(CHUNK, input.length - offset);
      this.w.memory.set(input.subarray(offset, offset + n), this.inBuf);
      offset += n;
      for (const it = this.stepsInMemory(this.inBuf, n, finish && offset === input.length); ; ) {
        const r = it.next();
        if (r.done) {
          if (r.value !== LZMA_OK) return r.value;
          break;
        }
        yield r.value.slice();
      }
    } while (offset < input.length);
    return LZMA_OK;
  }

  /**
   * Like code(), over `n` bytes already in linear memory at `ptr`; `emit` sees views of linear
   * memory, valid only until it returns (copy what you keep).
   */
  codeInMemory(ptr: number, n: number, finish: boolean, emit: (view: Uint8Array) => void): number {
    return drive(this.stepsInMemory(ptr, n, finish), emit);
  }

  private *stepsInMemory(ptr: number, n: number, finish: boolean): Generator<Uint8Array, number> {
    const { x } = this.w;
    for (let pos = 0; ; ) {
      const ret = x.xz_code(this.ptr, ptr + pos, n - pos, this.outBuf, CHUNK, finish ? 1 : 0);
      pos += x.xz_in_used(this.ptr);
      const produced = x.xz_out_used(this.ptr);
      if (produced > 0) yield this.w.view(this.outBuf, produced);
      if (ret !== LZMA_OK) return ret;
      // Without finish, liblzma has nothing more to give once the input is used and the output not full.
      if (!finish && pos === n && produced < CHUNK) return LZMA_OK;
    }
  }

  /** Frees the coder and its buffers; safe to call twice. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.w.x.xz_end(this.ptr);
    this.w.x.xz_free(this.inBuf);
    this.w.x.xz_free(this.outBuf);
  }
}

function drive(steps: Generator<Uint8Array, number>, emit: (chunk: Uint8Array) => void): number {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    emit(r.value);
  }
}

/** Throws XzError unless `ret` is LZMA_OK or LZMA_STREAM_END. */
export function expectOk(ret: number, what: string): void {
  if (ret !== LZMA_OK && ret !== LZMA_STREAM_END) throw new XzError(`${what}: ${lzmaRetMessage(ret)}`);
}
