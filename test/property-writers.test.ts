import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { bytesToBinary } from '../core/io/binary-string.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { isoStream } from '../core/iso9660/iso-writer.ts';
import { writeSquashfs } from '../core/squashfs/squashfs-writer.ts';
import { createFileSink } from '../node/file-sink.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { sh } from './helpers/cli.ts';
import { describeDisk, describeImage } from './helpers/describe-tree.ts';

// Random trees through our ISO and squashfs writers, judged by the real readers (xorriso, unsquashfs).

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-prop-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 120 })
  .map((b) => bytesToBinary(b.map((x) => (x === 0 || x === 0x2f ? 0x5f : x))))
  .filter((n) => n !== '.' && n !== '..');
const fileArb = fc.record({
  kind: fc.constant('file' as const),
  mode: fc.constantFrom(0o444, 0o555, 0o644, 0o755, 0o600),
  bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 3000, maxLength: 9000 })),
});
const linkArb = fc.record({ kind: fc.constant('symlink' as const), target: nameArb.map((n) => (n.length % 3 === 0 ? `/nix/store/${n}` : `../${n}`)) });
type Spec = { kind: 'file'; mode: number; bytes: Uint8Array } | { kind: 'symlink'; target: string } | { kind: 'dir'; entries: [string, Spec][] };
const treeArb: fc.Arbitrary<Spec> = fc.letrec<{ node: Spec }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fileArb,
    linkArb,
    fc.record({ kind: fc.constant('dir' as const), entries: fc.array(fc.tuple(nameArb, tie('node')), { maxLength: 6 }) }),
  ),
})).node;
const rootArb = fc.array(fc.tuple(nameArb, treeArb), { minLength: 1, maxLength: 8 });

function toImage(entries: [string, Spec][]): ImageDir {
  const dir = newDir(0o755);
  for (const [name, spec] of entries) dir.entries.set(name, toNode(spec));
  return dir;
}
function toNode(s: Spec): ImageNode {
  if (s.kind === 'file') return { kind: 'file', mode: s.mode, data: bytesSource(s.bytes) };
  if (s.kind === 'symlink') return { kind: 'symlink', target: s.target };
  return toImage(s.entries);
}

/** Entries whose name repeats in a directory collapse to the last one, as a Map keeps them. */
const build = (entries: [string, Spec][]): ImageDir => toImage(entries);

// xorriso -r: read bits for all, write bits cleared, execute for dirs and for files that had any.
const rockRidgeMode = (n: ImageNode) => (n.kind === 'dir' ? 0o555 : n.kind === 'file' ? 0o444 | (n.mode & 0o111 ? 0o111 : 0) : 0o777);
const squashfsMode = (n: ImageNode) => (n.kind === 'symlink' ? 0o777 : n.mode);

let run = 0;

test('property: random trees written as ISO 9660 + Rock Ridge come back exactly through xorriso', async () => {
  await fc.assert(
    fc.asyncProperty(rootArb, async (entries) => {
      const root = build(entries);
      const iso = join(tmp, `p${run++}.iso`);
      const chunks: Uint8Array[] = [];
      for await (const c of isoStream(root, { volumeID: 'PROPERTY' })) chunks.push(c.slice());
      await writeFile(iso, Buffer.concat(chunks));
      const out = join(tmp, `x${run}`);
      await sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
      assert.deepEqual(describeDisk(Buffer.from(out)), await describeImage(root, rockRidgeMode));
      await rm(out, { recursive: true, force: true });
      await rm(iso);
    }),
    { numRuns: 40, seed: 20261123 },
  );
});

test('property: random trees written as squashfs come back exactly through unsquashfs', async () => {
  await fc.assert(
    fc.asyncProperty(rootArb, fc.constantFrom('gzip' as const, 'zstd' as const), async (entries, codec) => {
      const root = build(entries);
      const img = join(tmp, `p${run++}.sqfs`);
      const sink = await createFileSink(img);
      try {
        await writeSquashfs(root, sink, { compression: codec === 'gzip' ? { codec } : { codec, level: 3 }, blockSize: 4096, codecs: nodeCodecs });
        await sink.close();
      } catch (e) {
        await sink.abort();
        throw e;
      }
      const out = join(tmp, `u${run}`);
      await sh('unsquashfs', ['-no-progress', '-d', out, img]);
      assert.deepEqual(describeDisk(Buffer.from(out)), await describeImage(root, squashfsMode));
      await rm(out, { recursive: true, force: true });
      await rm(img);
    }),
    { numRuns: 40, seed: 20261123 },
  );
});
