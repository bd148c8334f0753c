// Random trees through core/fat as FAT12, FAT16 and FAT32, judged by fsck.fat -n -V and mtools:
// Unicode and mixed-case names, names that collide as 8.3, deep directories, empty and large
// files, directories of 1000+ entries.
import { test, after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { textToBinary } from '../core/io/binary-string.ts';
import type { DataSource } from '../core/io/data-source.ts';
import { fatAutoSize } from '../core/fat/fat-writer.ts';
import type { FatType } from '../core/fat/geometry.ts';
import { judgeFat } from './helpers/fat-tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-fatprop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let runs = 0;
const MiB = 1024 * 1024;

/** `size` bytes computed from a seed when streamed, so large files cost no memory in the tree. */
function patterned(size: number, seed: number): DataSource {
  return {
    size,
    async *stream() {
      const chunk = 1 << 16;
      for (let at = 0; at < size; at += chunk) {
        const b = new Uint8Array(Math.min(chunk, size - at));
        for (let i = 0; i < b.length; i++) b[i] = (at + i) * 31 + seed * 7 + ((at + i) >> 9);
        yield b;
      }
    },
  };
}

// Characters long names may hold, weighted towards what makes short names interesting.
const CHARS = [...'abcXYZ019 .-_~+,;=[]()!#$%&@^{}', 'é', 'Ü', 'ß', 'ñ', 'Ω', 'Ж', '中', '文', 'ü', '🎉'];
const nameArb = fc
  .array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 40 })
  .map((cs) => cs.join(''))
  .map((n) => n.replace(/[. ]+$/, '') || 'x')
  .filter((n) => n !== '.' && n !== '..');
const sizeArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 1, 511, 512, 513, 2048, 4096) }, { weight: 3, arbitrary: fc.nat(20000) }, { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1_500_000 }) });

type Spec = { kind: 'file'; size: number } | { kind: 'dir'; entries: [string, Spec][]; bulk: number };
const treeArb: fc.Arbitrary<Spec> = fc.letrec<{ node: Spec }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true, maxDepth: 8 },
    fc.record({ kind: fc.constant('file' as const), size: sizeArb }),
    fc.record({
      kind: fc.constant('dir' as const),
      entries: fc.array(fc.tuple(nameArb, tie('node')), { maxLength: 7 }),
      // now and then a directory of 1000+ files whose names collide as 8.3
      bulk: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1300 }) }),
    }),
  ),
})).node;
const rootArb = fc.record({ entries: fc.array(fc.tuple(nameArb, treeArb), { minLength: 1, maxLength: 8 }), deep: fc.nat(30) });

/** Names equal ignoring case would be one name on FAT: keep the first of them. */
const folded = (n: string) => n.toUpperCase();

function toDir(entries: [string, Spec][], bulk: number, seed: { n: number }): ImageDir {
  const dir = newDir();
  const seen = new Set<string>();
  const put = (name: string, node: ImageNode) => {
    if (seen.has(folded(name))) return;
    seen.add(folded(name));
    dir.entries.set(textToBinary(name), node);
  };
  for (const [name, spec] of entries) put(name, spec.kind === 'file' ? { kind: 'file', mode: 0o444, data: patterned(spec.size, seed.n++) } : toDir(spec.entries, spec.bulk, seed));
  for (let i = 0; i < bulk; i++) put(`bulk entry with a long name ${i}.data`, { kind: 'file', mode: 0o444, data: patterned(i % 3 === 0 ? 0 : 1 + (i % 97), seed.n++) });
  return dir;
}

function toTree(r: { entries: [string, Spec][]; deep: number }): ImageDir {
  const root = toDir(r.entries, 0, { n: 1 });
  let d = root;
  for (let i = 0; i < r.deep; i++) {
    const next = newDir();
    d.entries.set(textToBinary(`deep level ${i}`), next);
    d = next;
  }
  d.entries.set(textToBinary('at the bottom.txt'), { kind: 'file', mode: 0o444, data: patterned(100, 0) });
  return root;
}

/** Each type at a size it can take: FAT12 as small as the tree allows, FAT16 from 16 MiB, FAT32 from 40 MiB. */
const MIN_SIZE: Record<FatType, number> = { 12: 0, 16: 16 * MiB, 32: 40 * MiB };

for (const fatType of [12, 16, 32] as const) {
  test(`random trees as FAT${fatType} are clean under fsck.fat and come back whole through mtools`, async () => {
    await fc.assert(
      fc.asyncProperty(rootArb, async (r) => {
        const root = toTree(r);
        const size = Math.max(fatAutoSize(root, { fatType }), MIN_SIZE[fatType]);
        const dir = join(tmp, `run-${runs++}`);
        mkdirSync(dir);
        try {
          await judgeFat(root, { mtime: 1700000000 + runs, size, fatType, label: `PROP${fatType}` }, dir);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      // a fixed seed, so a failure repeats; FAT_RUNS=n runs more
      { numRuns: Number(process.env.FAT_RUNS ?? 6), seed: 1300 + fatType, endOnFailure: true },
    );
  });
}
