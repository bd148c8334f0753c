import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { binaryToBytes, bytesToBinary } from '../core/io/binary-string.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { isoStream } from '../core/iso9660/iso-writer.ts';
import { writeSquashfs } from '../core/squashfs/squashfs-writer.ts';
import { createFileSink } from '../node/file-sink.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { sh } from './helpers/cli.ts';

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

/** One line per entry, as a reader left it on disk: type, mode, bytes or target. */
function describeDisk(dir: Buffer, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
    const p = Buffer.concat([dir, Buffer.from('/'), name]);
    const rel = prefix + bytesToBinary(name);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`l ${JSON.stringify(rel)} -> ${JSON.stringify(bytesToBinary(readlinkSync(p, { encoding: 'buffer' })))}`);
    else if (st.isFile()) out.push(`f ${JSON.stringify(rel)} ${mode} ${Buffer.from(readFileSync(p)).toString('base64')}`);
    else {
      out.push(`d ${JSON.stringify(rel)} ${mode}`);
      out.push(...describeDisk(p, `${rel}/`));
    }
  }
  return out;
}

/** The same description computed from the generated tree, with `mode` saying what the format keeps. */
function describeImage(dir: ImageDir, mode: (node: ImageNode) => number, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of [...dir.entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(binaryToBytes(a)), Buffer.from(binaryToBytes(b))))) {
    const node = dir.entries.get(name)!;
    const rel = prefix + name;
    if (node.kind === 'symlink') out.push(`l ${JSON.stringify(rel)} -> ${JSON.stringify(node.target)}`);
    else if (node.kind === 'file') {
      const bytes = (node.data as unknown as { size: number }).size === 0 ? new Uint8Array(0) : undefined;
      out.push(`f ${JSON.stringify(rel)} ${mode(node).toString(8)} ${FILE_BYTES.get(node) ?? Buffer.from(bytes ?? []).toString('base64')}`);
    } else {
      out.push(`d ${JSON.stringify(rel)} ${mode(node).toString(8)}`);
      out.push(...describeImage(node, mode, `${rel}/`));
    }
  }
  return out;
}
const FILE_BYTES = new WeakMap<ImageNode, string>();
function remember(dir: ImageDir, entries: [string, Spec][]): void {
  for (const [name, spec] of entries) {
    const node = dir.entries.get(name)!;
    if (spec.kind === 'file') FILE_BYTES.set(node, Buffer.from(spec.bytes).toString('base64'));
    if (spec.kind === 'dir' && node.kind === 'dir') remember(node, spec.entries);
  }
}

/** Entries whose name repeats in a directory collapse to the last one, as a Map keeps them. */
function build(entries: [string, Spec][]): ImageDir {
  const dir = toImage(entries);
  remember(dir, [...new Map(entries)]);
  return dir;
}

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
      assert.deepEqual(describeDisk(Buffer.from(out)), describeImage(root, rockRidgeMode));
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
      assert.deepEqual(describeDisk(Buffer.from(out)), describeImage(root, squashfsMode));
      await rm(out, { recursive: true, force: true });
      await rm(img);
    }),
    { numRuns: 40, seed: 20261123 },
  );
});
