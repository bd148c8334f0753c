// Random sparse images for the disk tests: data runs at odd offsets with zeros between, streamed
// in chunks of random length so writers meet every chunk/block boundary.
import type { ByteRange, SparseChunk, SparseSource } from '../../core/io/sparse.ts';
import { rng } from './synthetic-cache.ts';

export const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** `count` sorted disjoint runs inside [0, size), of 1..maxLength bytes, at arbitrary offsets. */
export function randomRuns(r: () => number, size: number, count: number, maxLength: number): ByteRange[] {
  const starts = Array.from({ length: count }, () => randInt(r, 0, size - 1)).sort((a, b) => a - b);
  const runs: ByteRange[] = [];
  let end = 0;
  for (const s of starts) {
    if (s < end) continue;
    const length = Math.min(randInt(r, 1, maxLength), size - s);
    runs.push({ offset: s, length });
    end = s + length + 1;
  }
  return runs;
}

/** The bytes of run `i`: random, with a zero stretch in the middle (allocated but zero). */
function runBytes(seed: number, i: number, length: number): Uint8Array {
  const r = rng(seed * 7919 + i);
  const b = Uint8Array.from({ length }, () => 1 + Math.floor(r() * 255));
  if (length > 3) b.fill(0, Math.floor(length / 3), Math.floor((2 * length) / 3));
  return b;
}

/** A SparseSource whose `runs` hold random bytes and the rest zeros. */
export function randomSparse(size: number, runs: readonly ByteRange[], seed: number): SparseSource {
  return {
    size,
    allocated: () => runs,
    async *chunks(): AsyncGenerator<SparseChunk> {
      const r = rng(seed);
      let pos = 0;
      for (const [i, run] of runs.entries()) {
        if (run.offset > pos) yield { zeros: run.offset - pos };
        const bytes = runBytes(seed, i, run.length);
        for (let at = 0; at < bytes.length; ) {
          const n = Math.min(bytes.length - at, randInt(r, 1, 300_000));
          yield bytes.subarray(at, at + n);
          at += n;
        }
        pos = run.offset + run.length;
      }
      if (size > pos) yield { zeros: size - pos };
    },
  };
}

/** The expected bytes of `source` at [offset, offset+length), from its runs. */
export function expectedBytes(runs: readonly ByteRange[], seed: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  runs.forEach((run, i) => {
    const lo = Math.max(run.offset, offset);
    const hi = Math.min(run.offset + run.length, offset + length);
    if (lo < hi) out.set(runBytes(seed, i, run.length).subarray(lo - run.offset, hi - run.offset), lo - offset);
  });
  return out;
}
