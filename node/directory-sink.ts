// `--output DIR/` for netboot: the files of the tar stream the build writes, unpacked into DIR.
// Only what our tar writer emits for a flat tree is accepted (ustar regular files at the top);
// each file appears under its name only when the whole build has succeeded.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSink } from '../core/io/sink.ts';
import { openAtomicFile, tempNameFor, type AtomicFile } from './file-sink.ts';

const BLOCK = 512;

function field(header: Uint8Array, at: number, length: number): string {
  const bytes = header.subarray(at, at + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

export async function createDirectorySink(dir: string): Promise<ByteSink> {
  await mkdir(dir, { recursive: true });
  const files: AtomicFile[] = [];
  let pending = new Uint8Array(0);
  /** Bytes of the current member's data still to come, then its padding to skip. */
  let dataLeft = 0;
  let padLeft = 0;
  let current: AtomicFile | undefined;
  let ended = false;

  const header = async (h: Uint8Array) => {
    if (h.every((b) => b === 0)) {
      ended = true;
      return;
    }
    const name = field(h, 0, 100);
    const type = String.fromCharCode(h[156]!);
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    if (type !== '0' || name.includes('/') || name === '' || name.startsWith('.')) throw new Error(`--output ${dir}: cannot unpack tar member ${JSON.stringify(name)} (type ${type}) into a flat directory`);
    current = await openAtomicFile(join(dir, tempNameFor(name)), join(dir, name));
    files.push(current);
    dataLeft = size;
    padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
  };

  return {
    async write(chunk) {
      let at = 0;
      while (at < chunk.length && !ended) {
        if (dataLeft > 0) {
          const n = Math.min(dataLeft, chunk.length - at);
          await current!.write(chunk.subarray(at, at + n));
          dataLeft -= n;
          at += n;
        } else if (padLeft > 0) {
          const n = Math.min(padLeft, chunk.length - at);
          padLeft -= n;
          at += n;
        } else {
          const n = Math.min(BLOCK - pending.length, chunk.length - at);
          const joined = new Uint8Array(pending.length + n);
          joined.set(pending);
          joined.set(chunk.subarray(at, at + n), pending.length);
          pending = joined;
          at += n;
          if (pending.length === BLOCK) {
            const h = pending;
            pending = new Uint8Array(0);
            await header(h);
          }
        }
      }
    },
    async close() {
      if (!ended || dataLeft > 0) throw new Error(`--output ${dir}: the tar stream ended early`);
      for (const f of files) await f.commit();
    },
    async abort() {
      for (const f of files) await f.abort();
    },
  };
}
