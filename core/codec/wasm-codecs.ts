import { WASI } from '@bjorn3/browser_wasi_shim';
import { NixImagerError } from '../errors.ts';

/** Exports of wasm/codecs.wasm (built by wasm/build.sh); pointers and sizes are byte offsets in `memory`. */
export interface CodecsExports {
  memory: WebAssembly.Memory;
  xz_alloc(n: number): number;
  xz_free(p: number): void;
  xz_encoder_new(preset: number, extreme: number, check: number, dictSize: number, bcj: number): number;
  xz_block_encoder_new(preset: number, extreme: number, check: number, blockSize: bigint): number;
  xz_decoder_new(): number;
  xz_code(coder: number, inPtr: number, inLen: number, outPtr: number, outCap: number, finish: number): number;
  xz_in_used(coder: number): number;
  xz_out_used(coder: number): number;
  xz_block_header(coder: number, out: number): number;
  xz_uncompressed_header(coder: number, size: bigint, out: number): number;
  xz_check_update(coder: number, inPtr: number, len: number): void;
  xz_check_finish(coder: number, out: number): number;
  xz_end(coder: number): void;
  xz_buffer_encode(
    preset: number, extreme: number, check: number, dictSize: number, bcj: number,
    inPtr: number, inLen: number, outPtr: number, outCap: number, outLenPtr: number,
  ): number;
  xz_buffer_bound(n: number): number;
  zs_compressor_new(level: number, checksum: number): number;
  zs_decompressor_new(): number;
  zs_compress(coder: number, inPtr: number, inLen: number, outPtr: number, outCap: number, end: number): number;
  zs_decompress(coder: number, inPtr: number, inLen: number, outPtr: number, outCap: number): number;
  zs_in_used(coder: number): number;
  zs_out_used(coder: number): number;
  zs_end(coder: number): void;
  zs_compress_buffer(level: number, inPtr: number, inLen: number, outPtr: number, outCap: number): number;
  zs_compress_frame(level: number, inPtr: number, inLen: number, outPtr: number, outCap: number): number;
  zs_bound(n: number): number;
  zs_is_error(code: number): number;
  zs_error_name(code: number): number;
}

/** One instance of the codecs module in this thread. */
export class Codecs {
  constructor(readonly x: CodecsExports) {}

  /** A fresh view: linear memory may have grown (and its buffer changed) since the last call. */
  get memory(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer);
  }

  alloc(n: number): number {
    const p = this.x.xz_alloc(n);
    if (p === 0) throw new WasmMemoryError(n);
    return p;
  }

  /** Copies `bytes` into newly allocated memory; the caller frees it. */
  put(bytes: Uint8Array): number {
    const p = this.alloc(Math.max(1, bytes.length));
    this.memory.set(bytes, p);
    return p;
  }

  copyOut(ptr: number, length: number): Uint8Array {
    return this.memory.slice(ptr, ptr + length);
  }

  /** A view of linear memory, valid until the next call into the module (memory may grow). */
  view(ptr: number, length: number): Uint8Array {
    return this.memory.subarray(ptr, ptr + length);
  }
}

export class WasmMemoryError extends NixImagerError {
  override name = 'WasmMemoryError';
  readonly code = 'io';
  constructor(bytes: number) {
    super(`codecs wasm: out of memory allocating ${bytes} bytes`);
  }
}

/** Where the codecs module comes from, and the one instance of it a thread uses. A platform provides it. */
export interface CodecsLoader {
  /** The compiled module, compiled once (and postable to workers). */
  module(): Promise<WebAssembly.Module>;
  /** An instance, created on first use. */
  instance(): Promise<Codecs>;
}

/** A loader over `load`, which is called at most once. */
export function codecsLoader(load: () => Promise<WebAssembly.Module>): CodecsLoader {
  let compiled: Promise<WebAssembly.Module> | undefined;
  let instance: Promise<Codecs> | undefined;
  const module = () => (compiled ??= load());
  return {
    module,
    instance: () =>
      (instance ??= module().then(async (m) => {
        const wasi = new WASI([], [], [], { debug: false });
        const inst = await WebAssembly.instantiate(m, { wasi_snapshot_preview1: wasi.wasiImport });
        wasi.initialize(inst as unknown as { exports: { memory: WebAssembly.Memory; _initialize?: () => unknown } });
        return new Codecs(inst.exports as unknown as CodecsExports);
      })),
  };
}

/** The module beside this file as a bundler emits it (browsers); Node reads the file instead (node/codec-wasm.ts). */
export const CODECS_WASM_URL = new URL('../../wasm/codecs.wasm', import.meta.url);

/** The default loader: wasm/codecs.wasm fetched from CODECS_WASM_URL. */
export const fetchedCodecs: CodecsLoader = codecsLoader(() => WebAssembly.compileStreaming(fetch(CODECS_WASM_URL)));
