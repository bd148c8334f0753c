import { readFile } from 'node:fs/promises';
import { codecsLoader, type CodecsLoader } from '../core/codec/wasm-codecs.ts';

/** wasm/codecs.wasm on disk (Node's fetch does not read file: URLs). A bundle into dist/ copies it alongside. */
export const CODECS_WASM_FILE = new URL('../wasm/codecs.wasm', import.meta.url);

/** This thread's codecs in Node: the module read from disk. */
export const nodeCodecs: CodecsLoader = codecsLoader(async () => WebAssembly.compile(await readFile(CODECS_WASM_FILE)));
