import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { tarStream, tarSize } from '../core/tar/tar-writer.ts';
import { TarError } from '../core/tar/tar-error.ts';
import { AHEAD_FILES, SMALL_FILE } from '../core/io/read-ahead.ts';
import { newDir, type ImageDir } from '../core/image/tree.ts';
import { textToBinary, type BinaryString } from '../core/io/binary-string.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-tar-'));
after(() => {
  execFileSync('chmod', ['-R', 'u+rwx', tmp]); // trees hold 0555 dirs, as the store does
  rmSync(tmp, { recursive: true, force: true });
});
let trees = 0;

const TAR_FLAGS = '--sort=name --owner=0 --group=0 --numeric-owner';

/** nixpkgs' make-system-tarball.sh command, with `*` also matching top-level dotfiles, in C-locale byte order. */
function gnuTar(dir: string, mtime = 1, pipeTo = ''): Buffer {
  const script = `cd "$1" && shopt -s dotglob nullglob && LC_ALL=C tar ${TAR_FLAGS} --mtime=@${mtime} -c * ${pipeTo}`;
  return execFileSync('bash', ['-c', script, 'gnu-tar', dir], { maxBuffer: 1 << 30 });
}

async function ourTar(root: ImageDir, mtime?: number, limit = Infinity): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of tarStream(root, mtime === undefined ? {} : { mtime })) {
    parts.push(chunk.slice());
    n += chunk.length;
    if (n >= limit) break;
  }
  return Buffer.concat(parts);
}

/** The first differing 512-byte block, described for a failure message. */
function firstDifference(ours: Buffer, theirs: Buffer): string {
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== theirs[i]) {
      const block = Math.floor(i / 512) * 512;
      const show = (b: Buffer) => JSON.stringify(b.subarray(block, block + 512).toString('latin1').replace(/\0+$/, ''));
      return `byte ${i} (block at ${block}):\n ours   ${show(ours)}\n theirs ${show(theirs)}`;
    }
  }
  return `lengths ${ours.length} vs ${theirs.length}`;
}

async function assertSameAsGnuTar(dir: string, mtime?: number): Promise<Buffer> {
  const root = treeFromDisk(dir);
  const theirs = gnuTar(dir, mtime);
  const ours = await ourTar(root, mtime);
  if (!ours.equals(theirs)) assert.fail(`tarStream differs from GNU tar at ${firstDifference(ours, theirs)}`);
  assert.equal(tarSize(root), theirs.length, 'tarSize');
  return theirs;
}

/** A tree to put on disk. Names and targets are binary strings (one char per byte), so any bytes can be named. */
type Node =
  | { kind: 'file'; data: string | number; mode: number }
  | { kind: 'symlink'; target: BinaryString }
  | { kind: 'dir'; entries: Spec; mode: number };
type Spec = Record<BinaryString, Node>;

/** A file of text, or of `size` bytes of a repeating pattern. */
const file = (data: string | number, mode = 0o644): Node => ({ kind: 'file', data, mode });
const link = (target: BinaryString): Node => ({ kind: 'symlink', target });
const dir = (entries: Spec, mode = 0o755): Node => ({ kind: 'dir', entries, mode });

const bytes = (s: BinaryString) => Buffer.from(s, 'latin1');

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 9)) & 0xff;
  return b;
}

function put(path: Buffer, node: Node): void {
  switch (node.kind) {
    case 'file':
      writeFileSync(path, typeof node.data === 'number' ? pattern(node.data) : node.data);
      chmodSync(path, node.mode);
      return;
    case 'symlink':
      symlinkSync(bytes(node.target), path);
      return;
    case 'dir':
      mkdirSync(path);
      for (const [name, child] of Object.entries(node.entries)) put(Buffer.concat([path, bytes(`/${name}`)]), child);
      chmodSync(path, node.mode); // after the children, so 0555 dirs can be filled
  }
}

/** Builds the spec as a fresh directory on disk and returns its path. */
function build(spec: Spec): string {
  const path = join(tmp, `t${trees++}`);
  put(Buffer.from(path), dir(spec));
  return path;
}

test('a basic tree: files, dirs, a symlink, store modes, a top-level dotfile', async () => {
  await assertSameAsGnuTar(
    build({
      nix: dir({ store: dir({ 'abc-hello': dir({ bin: dir({ hello: file('binary\n', 0o555) }, 0o555), share: dir({ doc: file('text', 0o444) }, 0o555) }, 0o555) }) }),
      etc: dir({ 'nixos-version': file('24.05', 0o444), motd: file('') }),
      run: dir({ 'current-system': link('/nix/store/abc-hello') }),
      '.dotfile': file('x'),
    }),
  );
});

test('member names of 99, 100, 101 and 255 bytes, as files and as directories (with their trailing slash)', async () => {
  const spec: Spec = {};
  for (const len of [99, 100, 101, 255]) {
    spec[`f${len}`] = dir({ ['x'.repeat(len - `f${len}/`.length)]: file(`${len}\n`) });
    // the directory member is "d<len>/<name>/": its name is `len` bytes with the slash
    spec[`d${len}`] = dir({ ['y'.repeat(len - `d${len}/`.length - 1)]: dir({}) });
    spec[`e${len}`] = dir({ ['z'.repeat(len - `e${len}/`.length - 2)]: dir({ q: file('') }) });
  }
  await assertSameAsGnuTar(build(spec));
});

test('a path 20 levels deep, and a name crossing the 512-byte LongLink block', async () => {
  let deep: Node = file('bottom\n');
  for (let i = 19; i >= 0; i--) deep = dir({ [`level-${i}-${'p'.repeat(10)}`]: deep });
  await assertSameAsGnuTar(build({ deep, long: dir({ ['n'.repeat(250)]: dir({ ['m'.repeat(250)]: dir({ ['o'.repeat(10)]: file('x') }) }) }) }));
});

test('symlink targets of 99, 100, 101 and 1000 bytes, with short and long names; a symlink to a directory', async () => {
  const spec: Spec = { target: dir({ inside: file('i') }), 'to-dir': link('target'), 'to-dir-abs': link('/nix/store/abc/lib') };
  for (const len of [99, 100, 101, 1000]) {
    spec[`l${len}`] = link('t'.repeat(len));
    spec[`${'L'.repeat(120)}${len}`] = link('u'.repeat(len));
  }
  spec.dangling = link('../../nowhere');
  await assertSameAsGnuTar(build(spec));
});

test('unicode names and names that are not UTF-8, kept as bytes', async () => {
  await assertSameAsGnuTar(
    build({
      [textToBinary('日本語')]: dir({ [textToBinary('ファイル.txt')]: file(textToBinary('内容')) }),
      [textToBinary('é-composed')]: file('1'),
      [textToBinary('é-decomposed')]: file('2'),
      'latin1-\xe9\xff': file('3'),
      'bad-utf8-\xc3\x28\x80': dir({ '\x01\x7f\xfe': file('4') }),
      'spaces and\nnewline\ttab': file('5'),
      // GNU tar unquotes backslashes in command-line names, so this one is not at the top
      sub: dir({ '\\back*star?[q]': link('\xff\xfe-target-\x80'), '-dash': file('7') }),
      [textToBinary('😀').repeat(30)]: file('6'),
    }),
  );
});

test('empty files, empty directories, exec and odd modes including setuid, setgid and sticky', async () => {
  await assertSameAsGnuTar(
    build({
      empty: file(''),
      'empty-dir': dir({}),
      'empty-ro-dir': dir({}, 0o555),
      exec: file('#!/bin/sh\n', 0o755),
      setuid: file('s', 0o4755),
      setgid: file('g', 0o2711),
      all: file('a', 0o7777),
      none: file('n', 0o000),
      odd: file('o', 0o640),
      sticky: dir({ f: file('') }, 0o1777),
      'setgid-dir': dir({}, 0o2750),
    }),
  );
});

test('file sizes around block and record boundaries, and files larger than one chunk', async () => {
  const spec: Spec = {};
  for (const size of [1, 2, 511, 512, 513, 1023, 1024, 1025, 9215, 9216, 9727, 10240, 10241, 65535, 65536, 65537, 262143, 262144, 300000, 1048577]) {
    spec[`s${String(size).padStart(8, '0')}`] = file(size);
  }
  await assertSameAsGnuTar(build(spec));
  // 8704: the end blocks close the record exactly; 9728: the members fill it and the end blocks start another
  for (const size of [0, 511, 512, 8703, 8704, 8705, 9216, 9217, 9728]) await assertSameAsGnuTar(build({ only: file(size) }));
});

test('many entries', async () => {
  const entries: Spec = {};
  for (let d = 0; d < 20; d++) {
    const files: Spec = {};
    for (let f = 0; f < 50; f++) files[`file-${f}`] = file((d * 50 + f) % 700);
    entries[`dir-${d}`] = dir(files);
  }
  const archive = await assertSameAsGnuTar(build(entries));
  assert.ok(archive.length > 1000 * 512);
});

test('other mtimes (one past the octal range, in base-256), and an empty tree', async () => {
  const tree = build({ a: dir({ b: file('c') }), l: link('a') });
  await assertSameAsGnuTar(tree, 1700000000);
  await assertSameAsGnuTar(tree, 2 ** 34);
  const empty = await ourTar(newDir());
  // GNU tar refuses to create an empty archive, so the reference is the format's end: a record of zeros
  assert.deepEqual(empty, Buffer.alloc(10240));
  assert.equal(tarSize(newDir()), 10240);
});

test('streams: small members are batched, a big file flows through without being held whole', async () => {
  const root = newDir();
  for (let i = 0; i < 500; i++) root.entries.set(`small-${String(i).padStart(3, '0')}`, { kind: 'file', mode: 0o444, data: { size: 10, async *stream() { yield new Uint8Array(10); } } });
  let produced = 0;
  const mib = 1 << 20;
  root.entries.set('zz-big', {
    kind: 'file',
    mode: 0o444,
    data: {
      size: 64 * mib,
      async *stream() {
        for (let i = 0; i < 64; i++) {
          produced++;
          yield new Uint8Array(mib).fill(i);
        }
      },
    },
  });
  let chunks = 0;
  let largest = 0;
  let sawBigDataEarly = false;
  let total = 0;
  for await (const chunk of tarStream(root)) {
    chunks++;
    largest = Math.max(largest, chunk.length);
    total += chunk.length;
    if (chunk.length === mib && produced < 64) sawBigDataEarly = true;
  }
  assert.equal(total, tarSize(root));
  assert.ok(chunks < 100, `${chunks} chunks for 500 small files and 64 MiB`);
  assert.ok(largest <= mib, `a chunk of ${largest} bytes`);
  assert.ok(sawBigDataEarly, 'the big file was read ahead of the output');
});

function lyingSource(size: number, actual: number): DataSource {
  return {
    size,
    async *stream() {
      yield new Uint8Array(actual);
    },
  };
}

test('a data source yielding more or fewer bytes than its size makes the writer throw', async () => {
  for (const [size, actual] of [[100, 99], [100, 101], [0, 1], [512, 0], [SMALL_FILE + 1, SMALL_FILE], [SMALL_FILE + 1, SMALL_FILE + 2]] as const) {
    const root = newDir();
    root.entries.set('f', { kind: 'file', mode: 0o644, data: lyingSource(size, actual) });
    await assert.rejects(ourTar(root), (e: unknown) => e instanceof TarError && /file "f"/.test(e.message) && e.message.includes(String(size)));
  }
});

test('what tar cannot hold is refused in words: a negative or fractional mtime, a name char past 0xff', async () => {
  const root = newDir();
  root.entries.set('f', { kind: 'file', mode: 0o644, data: bytesSource(new Uint8Array(1)) });
  await assert.rejects(ourTar(root, -1), (e: unknown) => e instanceof TarError && /mtime -1/.test(e.message));
  await assert.rejects(ourTar(root, 1.5), (e: unknown) => e instanceof TarError && /mtime 1.5/.test(e.message));
  root.entries.set('caf\u00e9\u2603', { kind: 'symlink', target: 'x' });
  await assert.rejects(ourTar(root), (e: unknown) => e instanceof TarError && /not a binary string/.test(e.message));
});

test('a read error in a file read ahead reaches the consumer; stopping early leaves nothing unhandled', async () => {
  const failing: DataSource = {
    size: 10,
    async *stream() {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('disk on fire');
    },
  };
  const root = newDir();
  // big enough to be yielded on its own, small enough to be read ahead together with "b"
  root.entries.set('a', { kind: 'file', mode: 0o644, data: bytesSource(new Uint8Array(100_000)) });
  root.entries.set('b', { kind: 'file', mode: 0o644, data: failing });
  await assert.rejects(ourTar(root), /disk on fire/);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const head = await ourTar(root, undefined, 1); // stops after the first chunk, while "b" is still being read
    assert.ok(head.length < 200_000);
    await new Promise((r) => setTimeout(r, 30));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('small files are read ahead, several at once but never more than the window', async () => {
  let open = 0;
  let most = 0;
  const slow: DataSource = {
    size: 1000,
    async *stream() {
      open++;
      most = Math.max(most, open);
      await new Promise((r) => setTimeout(r, 1));
      yield new Uint8Array(1000);
      open--;
    },
  };
  const root = newDir();
  for (let i = 0; i < 200; i++) root.entries.set(`f${String(i).padStart(3, '0')}`, { kind: 'file', mode: 0o644, data: slow });
  const archive = await ourTar(root);
  assert.equal(archive.length, tarSize(root));
  assert.ok(most > 4 && most <= AHEAD_FILES, `${most} files were being read at once`);
});

test('a file of 8.1 GiB gets a base-256 size field, as GNU tar writes it', async () => {
  const path = build({ big: dir({ sparse: file('') }), z: file('after') });
  const size = Math.round(8.1 * 2 ** 30); // not a multiple of 512 either
  truncateSync(join(path, 'big/sparse'), size); // sparse: nothing is stored
  const theirs = gnuTar(path, 1, '| head -c 1024');
  const root = treeFromDisk(path);
  const ours = await ourTar(root, 1, 1024);
  assert.equal(theirs.length, 1024);
  assert.ok(ours.subarray(0, 1024).equals(theirs), firstDifference(ours, theirs));
  assert.equal(theirs[512 + 124], 0x80, 'base-256 marker');
  // the rest: this file's data padded to a block, the last member, the end blocks and the record padding
  const afterBig = 1024 + 1536 + size + 512 + 1024;
  assert.equal(tarSize(root), Math.ceil(afterBig / 10240) * 10240);
});

/** Names: any bytes but NUL and "/", never "." or "..", with lengths that reach past 100 in nested paths. */
const nameArb = fc
  .array(fc.oneof(fc.integer({ min: 1, max: 255 }).filter((b) => b !== 0x2f), fc.constantFrom(0x61, 0x2e, 0x20, 0xc3, 0xa9)), { minLength: 1, maxLength: 70 })
  .map((codes) => String.fromCharCode(...codes))
  .filter((n) => n !== '.' && n !== '..');

const fileArb = fc.record({
  kind: fc.constant('file' as const),
  data: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }) }, { weight: 1, arbitrary: fc.integer({ min: 60000, max: 140000 }) }),
  mode: fc.integer({ min: 0, max: 0o7777 }).map((m) => m | 0o400), // readable, so GNU tar needs no root
});
const symlinkArb = fc.record({
  kind: fc.constant('symlink' as const),
  target: fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 220 }),
});

const nodeArb: fc.Memo<Node> = fc.memo((depth) => {
  const leaves = [{ weight: 5, arbitrary: fileArb as fc.Arbitrary<Node> }, { weight: 2, arbitrary: symlinkArb as fc.Arbitrary<Node> }];
  if (depth <= 1) return fc.oneof(...leaves);
  const dirArb = fc.record({ kind: fc.constant('dir' as const), entries: specArb(depth - 1), mode: fc.integer({ min: 0, max: 0o7777 }).map((m) => m | 0o700) });
  return fc.oneof(...leaves, { weight: 3, arbitrary: dirArb as fc.Arbitrary<Node> });
});

function specArb(depth: number): fc.Arbitrary<Spec> {
  return fc.uniqueArray(fc.tuple(nameArb, nodeArb(depth)), { maxLength: 6, selector: ([name]) => name }).map((pairs) => Object.fromEntries(pairs) as Spec);
}

// Top-level names with a backslash or a leading dash are left out: GNU tar unquotes command-line names
// and takes "-x" for an option.
test('random trees (tricky names, modes, sizes, targets) give the bytes GNU tar gives', async () => {
  await fc.assert(
    fc.asyncProperty(specArb(4).filter((s) => Object.keys(s).length > 0 && !Object.keys(s).some((n) => n.includes('\\') || n.startsWith('-'))), fc.integer({ min: 0, max: 2 ** 33 - 1 }), async (spec, mtime) => {
      await assertSameAsGnuTar(build(spec), mtime);
    }),
    { numRuns: 40 },
  );
});
