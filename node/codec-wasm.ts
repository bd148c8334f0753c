import { readFile } from 'node:fs/promises';
import { setCodecsModuleLoader } from '../core/codec/wasm-codecs.ts';

/** wasm/codecs.wasm on disk (Node's fetch does not read file: URLs). A bundle into dist/ copies it alongside. */
export const CODECS_WASM_FILE = new URL('../wasm/codecs.wasm', import.meta.url);

/** Makes this thread load the codecs module from disk; call once before using core/xz or core/zstd in Node. */
export function useNodeCodecs(file: URL = CODECS_WASM_FILE): void {
  setCodecsModuleLoader(async () => WebAssembly.compile(await readFile(file)));
}
