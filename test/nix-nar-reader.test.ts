import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readNar, narHashingTap, NarError, type NarEntry } from '../core/nix/nar-reader.ts';
import { nix32Encode } from '../core/nix/nix32.ts';
import { binaryToBytes, bytesToBinary, type BinaryString } from '../core/io/binary-string.ts';
import { concatBytes as concat } from '../core/io/bytes.ts';
import { narNodeParts, narStr, sortedTree, writeNar, type NarNode } from './helpers/nar-builder.ts';
import { NIX_ENV } from './helpers/nix.ts';
import { NarListing, streamedNarTree } from '../core/image/store-tree.ts';
import { sortedEntries, type ImageNode } from '../core/image/tree.ts';

const env = { ...process.env, ...NIX_ENV };

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function entriesOf(bytes: Uint8Array, chunkSize = 4096): Promise<NarEntry[]> {
  const out: NarEntry[] = [];
  for await (const e of readNar(chunked(bytes, chunkSize))) out.push(e);
  return out;
}

async function narError(bytes: Uint8Array, chunkSize = 4096): Promise<NarError> {
  try {
    await entriesOf(bytes, chunkSize);
  } catch (e) {
    if (e instanceof NarError) return e;
    throw new Error(`expected a NarError, got ${String(e)}`);
  }
  throw new Error('expected a NarError, the NAR was accepted');
}

function nixDump(path: string): Uint8Array {
  const r = spawnSync('nix-store', ['--dump', path], { env, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return new Uint8Array(r.stdout);
}

/** Whether real Nix accepts the NAR: `nix-store --restore` into a fresh directory. */
function nixRestores(nar: Uint8Array): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'nar-restore-'));
  try {
    return spawnSync('nix-store', ['--restore', join(dir, 'out')], { env, input: nar }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tree on disk as the NAR entries it must give, names in byte order, with file bytes to compare through offsets. */
function diskEntries(root: string): { entry: NarEntry; bytes?: Uint8Array }[] {
  const out: { entry: NarEntry; bytes?: Uint8Array }[] = [];
  const visit = (disk: Buffer, path: BinaryString) => {
    const st = lstatSync(disk);
    if (st.isSymbolicLink()) {
      out.push({ entry: { type: 'symlink', path, target: bytesToBinary(readlinkSync(disk, { encoding: 'buffer' })) } });
    } else if (st.isFile()) {
      const bytes = new Uint8Array(readFileSync(disk));
      out.push({ entry: { type: 'regular', path, executable: (st.mode & 0o100) !== 0, size: bytes.length, offset: -1 }, bytes });
    } else {
      out.push({ entry: { type: 'directory', path } });
      const names = readdirSync(disk, { encoding: 'buffer' }).map((n) => bytesToBinary(n));
      names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const n of names) visit(Buffer.concat([disk, Buffer.from('/'), Buffer.from(binaryToBytes(n))]), path === '' ? n : `${path}/${n}`);
    }
  };
  visit(Buffer.from(root), '');
  return out;
}

function assertMatchesDisk(nar: Uint8Array, got: NarEntry[], root: string) {
  const want = diskEntries(root);
  assert.deepEqual(
    got.map((e) => (e.type === 'regular' ? { ...e, offset: -1 } : e)),
    want.map((w) => w.entry),
  );
  for (let i = 0; i < got.length; i++) {
    const e = got[i]!;
    if (e.type === 'regular') assert.deepEqual(nar.subarray(e.offset, e.offset + e.size), want[i]!.bytes, `contents of ${e.path}`);
  }
}

async function withTmp<T>(f: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'nix-nar-'));
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeVariedTree(root: string) {
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'run'), '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'bin', 'run'), 0o755);
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'seven'), '1234567');
  writeFileSync(join(root, 'eight'), '12345678');
  const big = new Uint8Array(3 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(root, 'big.bin'), big);
  mkdirSync(join(root, 'a', 'b', 'c', 'd'), { recursive: true });
  writeFileSync(join(root, 'a', 'b', 'c', 'd', 'deep'), 'deep\n');
  mkdirSync(join(root, 'emptydir'));
  symlinkSync('bin/run', join(root, 'rel-link'));
  symlinkSync('/nix/store/does-not-exist', join(root, 'abs-link'));
  symlinkSync('dangling', join(root, 'dangling-link'));
  writeFileSync(join(root, 'ünïcødé — ✓'), 'unicode\n');
  writeFileSync(join(root, 'x'.repeat(200)), 'long name\n');
  // Byte order, not locale order: 'B' < 'a' < 'a-b' < 'a.b' < 'a_b' < 0xff.
  for (const n of ['B', 'a-b', 'a.b', 'a_b']) writeFileSync(join(root, n), n);
  writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0xff, 0x01, 0x80])]), 'not utf-8\n');
}

test('nix-store --dump of a varied tree reads back as exactly the tree on disk, at any chunking', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'tree');
    makeVariedTree(root);
    const nar = nixDump(root);
    for (const chunkSize of [61, 4096, 65539, nar.length]) assertMatchesDisk(nar, await entriesOf(nar, chunkSize), root);
  });
});

test('a single file and a symlink as the NAR root; byte-at-a-time input', async () => {
  await withTmp(async (dir) => {
    writeFileSync(join(dir, 'file'), 'hello\n');
    chmodSync(join(dir, 'file'), 0o755);
    symlinkSync('file', join(dir, 'link'));
    for (const name of ['file', 'link']) {
      const nar = nixDump(join(dir, name));
      assertMatchesDisk(nar, await entriesOf(nar, 1), join(dir, name));
    }
  });
});

test('the test NAR writer writes what nix-store --dump writes', async () => {
  await withTmp((dir) => {
    makeVariedTree(join(dir, 't'));
    const toNode = (p: Buffer): NarNode => {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return { type: 'symlink', target: bytesToBinary(readlinkSync(p, { encoding: 'buffer' })) };
      if (st.isFile()) return { type: 'regular', contents: new Uint8Array(readFileSync(p)), executable: (st.mode & 0o100) !== 0 };
      return {
        type: 'directory',
        entries: readdirSync(p, { encoding: 'buffer' }).map((n) => [bytesToBinary(n), toNode(Buffer.concat([p, Buffer.from('/'), n]))]),
      };
    };
    const written = writeNar(sortedTree(toNode(Buffer.from(join(dir, 't')))));
    assert.deepEqual(written, nixDump(join(dir, 't')));
  });
});

test('narHashingTap gives the NAR hash and size that nix computes for the path', async () => {
  await withTmp(async (dir) => {
    makeVariedTree(join(dir, 't'));
    const nar = nixDump(join(dir, 't'));
    const tap = narHashingTap(chunked(nar, 65536));
    let entries = 0;
    for await (const _ of readNar(tap.chunks)) entries++;
    assert.ok(entries > 10);
    const r = spawnSync('nix', ['hash', 'path', '--type', 'sha256', '--base32', join(dir, 't')], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { narHash, narSize } = tap.result();
    assert.equal(nix32Encode(narHash.digest), r.stdout.trim());
    assert.equal(narSize, nar.length);
  });
});

// ---- hostile NARs ----

const MAGIC = narStr('nix-archive-1');
const reg = (contents: string, executable = false): NarNode => ({ type: 'regular', contents: new TextEncoder().encode(contents), executable });
const dirOf = (...entries: [string, NarNode][]): NarNode => ({ type: 'directory', entries });
const nested = (inner: NarNode): NarNode => dirOf(['sub', inner]);
const raw = (...parts: (string | Uint8Array)[]) => concat([MAGIC, ...parts.map((p) => (typeof p === 'string' ? narStr(p) : p))]);

/** A string whose padding is not zero. */
function badPadding(s: string): Uint8Array {
  const out = narStr(s);
  out[out.length - 1] = 1;
  return out;
}

function lengthField(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

interface Hostile {
  what: string;
  nar: Uint8Array;
  /** Words the NarError message must contain (the rule, and the path within the NAR). */
  says: string[];
  /**
   * What `nix-store --restore` (Debian's Nix 2.8) does with it: a few are accepted (its parser is looser
   * than today's Nix). 'slow' is accepted too, but takes seconds, so the suite does not ask again.
   */
  nix: 'rejects' | 'accepts' | 'slow';
}

const hostile: Hostile[] = [
  { what: 'bad magic', nar: concat([narStr('nix-archive-2'), ...narNodeParts(reg('x'))]), says: ['magic'], nix: 'rejects' },
  { what: 'not a NAR at all', nar: new TextEncoder().encode('hello world, this is text\n'), says: ['large'], nix: 'rejects' },
  { what: 'empty input', nar: new Uint8Array(0), says: ['truncated'], nix: 'rejects' },
  { what: 'non-zero padding in a token', nar: concat([MAGIC, badPadding('('), ...narNodeParts(reg('x')).slice(1)]), says: ['padding'], nix: 'rejects' },
  { what: 'non-zero padding after file contents', nar: raw('(', 'type', 'regular', 'contents', badPadding('abc'), ')'), says: ['padding'], nix: 'rejects' },
  { what: 'non-zero padding in a name', nar: raw('(', 'type', 'directory', 'entry', '(', 'name', badPadding('a'), 'node', ...narNodeParts(reg('x')), ')', ')'), says: ['padding', 'root'], nix: 'rejects' },
  { what: 'entry named ..', nar: writeNar(nested(dirOf(['..', reg('x')]))), says: ['invalid file name', '".."', 'sub'], nix: 'rejects' },
  { what: 'entry named .', nar: writeNar(dirOf(['.', reg('x')])), says: ['invalid file name'], nix: 'rejects' },
  { what: 'entry name with /', nar: writeNar(nested(dirOf(['a/b', reg('x')]))), says: ['invalid file name', 'sub'], nix: 'rejects' },
  { what: 'entry name with NUL', nar: writeNar(dirOf(['a\0b', reg('x')])), says: ['invalid file name'], nix: 'rejects' },
  { what: 'empty entry name', nar: writeNar(dirOf(['', reg('x')])), says: ['invalid file name'], nix: 'rejects' },
  { what: 'unsorted entries', nar: writeNar(nested(dirOf(['b', reg('x')], ['a', reg('y')]))), says: ['sorted', 'sub'], nix: 'accepts' },
  { what: 'duplicate entries', nar: writeNar(dirOf(['a', reg('x')], ['a', reg('y')])), says: ['sorted'], nix: 'rejects' },
  { what: 'entry name longer than 255 bytes', nar: writeNar(dirOf(['n'.repeat(256), reg('x')])), says: ['limit'], nix: 'rejects' },
  { what: 'unknown file type', nar: raw('(', 'type', 'fifo', ')'), says: ['unknown file type'], nix: 'rejects' },
  { what: 'executable marker with a value', nar: raw('(', 'type', 'regular', 'executable', 'yes', 'contents', 'x', ')'), says: ['executable'], nix: 'rejects' },
  { what: 'symlink with an empty target', nar: writeNar(dirOf(['l', { type: 'symlink', target: '' }])), says: ['target is empty', '"l"'], nix: 'rejects' },
  { what: 'symlink target with NUL', nar: writeNar(dirOf(['l', { type: 'symlink', target: 'a\0b' }])), says: ['NUL', '"l"'], nix: 'accepts' },
  { what: 'contents length of 2^63', nar: raw('(', 'type', 'regular', 'contents', lengthField(1n << 63n)), says: ['too large'], nix: 'rejects' },
  { what: 'contents longer than the archive', nar: raw('(', 'type', 'regular', 'contents', lengthField(1000n), 'abc'), says: ['truncated'], nix: 'rejects' },
  { what: 'a keyword that is not one', nar: raw('(', 'type', 'regular', 'contentz', 'x', ')'), says: ['contents'], nix: 'rejects' },
  { what: 'missing closing parenthesis', nar: raw('(', 'type', 'regular', 'contents', 'x'), says: ['truncated'], nix: 'rejects' },
  { what: 'entry without its closing parenthesis', nar: raw('(', 'type', 'directory', 'entry', '(', 'name', 'a', 'node', ...narNodeParts(reg('x')), ')'), says: ['truncated'], nix: 'rejects' },
  { what: 'a second type field', nar: raw('(', 'type', 'regular', 'type', 'regular', 'contents', 'x', ')'), says: ['contents'], nix: 'rejects' },
  { what: 'contents in a directory', nar: raw('(', 'type', 'directory', 'contents', 'x', ')'), says: ['entry'], nix: 'rejects' },
  { what: 'target in a regular file', nar: raw('(', 'type', 'regular', 'target', 'x', ')'), says: ['contents'], nix: 'rejects' },
  { what: 'executable after contents', nar: raw('(', 'type', 'regular', 'contents', 'x', 'executable', '', ')'), says: ['expected ")"'], nix: 'accepts' },
  { what: 'directories nested 1025 deep', nar: writeNar(Array.from({ length: 1025 }).reduce<NarNode>((inner) => dirOf(['d', inner]), reg('x'))), says: ['deeper than 1024'], nix: 'slow' },
  { what: 'trailing bytes after the root object', nar: concat([writeNar(reg('x')), narStr('(')]), says: ['follow the end'], nix: 'accepts' },
];

for (const h of hostile) {
  test(`hostile NAR: ${h.what} → NarError${h.nix === 'rejects' ? ', and nix-store --restore rejects it too' : ' (Nix 2.8 accepts it)'}`, async () => {
    // Byte-sized chunks cross every boundary; the big deep NAR gets only the fast chunking.
    for (const chunkSize of h.nar.length <= 4096 ? [1, 5, 4096] : [7, 4096]) {
      const e = await narError(h.nar, chunkSize);
      for (const word of h.says) assert.ok(e.message.includes(word), `"${e.message}" should mention ${word}`);
    }
    if (h.nix !== 'slow') assert.equal(nixRestores(h.nar), h.nix === 'accepts');
  });
}

test('a NAR truncated at any offset is a NarError; nix-store --restore agrees', async () => {
  const nar = writeNar(dirOf(['a', reg('hello', true)], ['d', dirOf(['l', { type: 'symlink', target: '../a' }])], ['e', reg('')]));
  assert.equal((await entriesOf(nar)).length, 5);
  assert.ok(nixRestores(nar));
  for (let cut = 0; cut < nar.length; cut++) {
    const e = await narError(nar.subarray(0, cut), 3);
    assert.ok(e.message.includes('truncated'), e.message);
  }
  for (let cut = 0; cut < nar.length; cut += 40) assert.equal(nixRestores(nar.subarray(0, cut)), false, `nix restores a NAR cut at ${cut}`);
});

test('the accepted edge cases are accepted by nix-store --restore as well', async () => {
  const valid: NarNode[] = [
    dirOf(),
    reg(''),
    dirOf(['n'.repeat(255), reg('x')]),
    dirOf(['l', { type: 'symlink', target: 't'.repeat(4095) }]),
    dirOf(['.hidden', reg('x')], ['...', reg('y')]),
  ];
  for (const node of valid) {
    const nar = writeNar(sortedTree(node));
    await entriesOf(nar);
    assert.ok(nixRestores(nar));
  }
});

// ---- properties ----

const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((b) => bytesToBinary(b.map((x) => (x === 0 || x === 0x2f ? 0x61 : x))))
  .filter((n) => n !== '.' && n !== '..');
const leafArb: fc.Arbitrary<NarNode> = fc.oneof(
  fc.record({ type: fc.constant('regular' as const), contents: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 2000, maxLength: 6000 })), executable: fc.boolean() }),
  fc.record({ type: fc.constant('symlink' as const), target: nameArb }),
);
const treeArb: fc.Arbitrary<NarNode> = fc.letrec<{ node: NarNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc
      .uniqueArray(fc.tuple(nameArb, tie('node')), { maxLength: 5, selector: ([n]) => n })
      .map((entries): NarNode => ({ type: 'directory', entries })),
  ),
})).node;

type WithoutOffset<E> = E extends { offset: number } ? Omit<E, 'offset'> : E;

function expectedEntries(node: NarNode, path: BinaryString = ''): WithoutOffset<NarEntry>[] {
  if (node.type === 'regular') return [{ type: 'regular', path, executable: !!node.executable, size: node.contents.length }];
  if (node.type === 'symlink') return [{ type: 'symlink', path, target: node.target }];
  return [{ type: 'directory', path }, ...node.entries.flatMap(([n, c]) => expectedEntries(c, path === '' ? n : `${path}/${n}`))];
}

function contentsInOrder(node: NarNode): Uint8Array[] {
  if (node.type === 'regular') return [node.contents];
  if (node.type === 'directory') return node.entries.flatMap(([, c]) => contentsInOrder(c));
  return [];
}

test('property: random valid trees round-trip through the NAR writer and readNar', async () => {
  await fc.assert(
    // Small chunks make every window span many; big ones (around the 8 KiB window) exercise reading a split chunk in place.
    fc.asyncProperty(treeArb, fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 4000, max: 20000 })), async (tree, chunkSize) => {
      const sorted = sortedTree(tree);
      const nar = writeNar(sorted);
      const got = await entriesOf(nar, chunkSize);
      assert.deepEqual(
        got.map((e) => {
          if (e.type !== 'regular') return e;
          const { offset: _, ...rest } = e;
          return rest;
        }),
        expectedEntries(sorted),
      );
      const files = got.filter((e) => e.type === 'regular');
      assert.deepEqual(
        files.map((f) => nar.subarray(f.offset, f.offset + f.size)),
        contentsInOrder(sorted),
      );
    }),
    { numRuns: 300 },
  );
});

test('property: mutated NARs never hang and never throw anything but NarError', async () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  );
  await fc.assert(
    fc.asyncProperty(treeArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 64 }), async (tree, mutations, chunkSize) => {
      let nar = writeNar(sortedTree(tree));
      for (const m of mutations) {
        const at = m.at % (nar.length + 1);
        if (m.kind === 'flip' && at < nar.length) nar = nar.map((b, i) => (i === at ? m.value : b));
        else if (m.kind === 'cut') nar = nar.subarray(0, at);
        else if (m.kind === 'insert') nar = concat([nar.subarray(0, at), m.bytes, nar.subarray(at)]);
        else if (m.kind === 'delete') nar = concat([nar.subarray(0, at), nar.subarray(at + m.count)]);
      }
      try {
        await entriesOf(nar, chunkSize);
      } catch (e) {
        if (!(e instanceof NarError)) throw e;
      }
    }),
    { numRuns: 1000, interruptAfterTimeLimit: 20_000 },
  );
});

/** What an image tree holds, as a NarNode: names, kinds, executable bits, targets and the bytes its files stream. */
async function asNarNode(node: ImageNode): Promise<NarNode> {
  if (node.kind === 'symlink') return { type: 'symlink', target: node.target };
  if (node.kind === 'file') {
    assert.ok(node.mode === 0o444 || node.mode === 0o555, `file mode ${node.mode.toString(8)}`);
    const parts: Uint8Array[] = [];
    for await (const c of node.data.stream()) parts.push(c);
    return { type: 'regular', contents: concat(parts), executable: node.mode === 0o555 };
  }
  assert.equal(node.mode, 0o555);
  const entries: [string, NarNode][] = [];
  for (const [name, child] of sortedEntries(node)) entries.push([name, await asNarNode(child)]);
  return { type: 'directory', entries };
}

test('property: a packed NAR listing builds the tree the NAR unpacks to, whole and streamed', async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, async (tree) => {
      const sorted = sortedTree(tree);
      const nar = writeNar(sorted);
      const listing = NarListing.pack(await entriesOf(nar));
      const open = async () => ({ size: nar.length, read: async (at: number, n: number) => nar.slice(at, at + n), close: async () => {} });
      // Plain objects (fast-check's records have no prototype) and explicit executable bits, as asNarNode builds them.
      const normal = (n: NarNode): NarNode =>
        n.type === 'regular'
          ? { type: 'regular', contents: n.contents, executable: !!n.executable }
          : n.type === 'directory'
            ? { type: 'directory', entries: n.entries.map(([k, c]) => [k, normal(c)]) }
            : { type: 'symlink', target: n.target };
      assert.deepEqual(await asNarNode(listing.tree(open)), normal(sorted));
      assert.deepEqual(await asNarNode(streamedNarTree(listing, open)), normal(sorted));
    }),
    { numRuns: 300 },
  );
});
