import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, run } from './helpers/cli.ts';
import { nodeFromDisk, treeFromDisk } from '../node/fs-tree.ts';
import { createFileSink } from '../node/file-sink.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { writeSquashfs, SquashfsError, type BlockCompress, type SquashfsOptions } from '../core/squashfs/squashfs-writer.ts';
import { contentKey } from '../core/squashfs/file-blocks.ts';
import { zlibSync } from 'fflate';
import { newDir, walk, type ImageDir } from '../core/image/tree.ts';
import { binaryToText } from '../core/io/binary-string.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import type { SeekableSink } from '../core/io/sink.ts';

const TZ = { TZ: 'UTC' };
let tmp: string;
let src: string;

/** A block size small enough that xz and zstd at their slow levels stay quick, yet files span many blocks. */
const BS = 65536;

/**
 * The fixture: every shape of tree the store holds, and the data shapes squashfs treats apart
 * (multi-block files, short last blocks, all-zero blocks, uncompressible blocks, duplicates, fragments).
 */
async function buildFixture(dir: string): Promise<void> {
  const text = (n: number, seed: string) => Buffer.from(Array.from({ length: Math.ceil(n / 40) }, (_, i) => `${seed} line ${i} of some text\n`).join('').slice(0, n));
  const put = async (p: string, data: Uint8Array | string, mode = 0o444) => {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), data);
    await chmod(join(dir, p), mode);
  };
  await put('bin/hello', '#!/bin/sh\necho hello\n', 0o555);
  await put('bin/tool', randomBytes(3 * BS + 1234), 0o755);
  await put('empty-file', '');
  await mkdir(join(dir, 'empty-dir'));
  await put('writable', 'rw\n', 0o644);
  await put('setuid-ish', 'x', 0o4755);
  await mkdir(join(dir, 'links'));
  await symlink('../bin/hello', join(dir, 'links/relative'));
  await symlink('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello/bin/hello', join(dir, 'links/absolute'));
  await symlink('../deep', join(dir, 'links/to-dir'));
  await symlink('nowhere', join(dir, 'links/dangling'));
  const deep = Array.from({ length: 20 }, (_, i) => `level${i}`).join('/');
  await put(`deep/${deep}/leaf`, 'bottom\n');
  await put('names/ünïcødé-名前-файл', 'utf-8 name\n');
  await put(`names/${'n'.repeat(200)}`, '200\n');
  await put(`names/${'m'.repeat(255)}`, 'longest name Linux holds\n');
  // 3000 entries: a listing of many metadata blocks (directory index) with many headers.
  await mkdir(join(dir, 'many'));
  for (let i = 0; i < 3000; i++) await writeFile(join(dir, 'many', `entry-${String(i).padStart(4, '0')}`), i % 7 === 0 ? 'same small content\n' : `file ${i}\n`);
  await put('data/text-multi', text(3 * BS + 500, 'multi'));
  await put('data/exact-blocks', text(2 * BS, 'exact'));
  await put('data/almost-block', text(BS - 1, 'almost'));
  await put('data/zeros', Buffer.concat([Buffer.alloc(2 * BS), randomBytes(BS), Buffer.alloc(BS + 10)]));
  await put('data/random', randomBytes(2 * BS + 77));
  await put('data/dup-a', text(2 * BS + 99, 'dup'));
  await put('data/dup-b', text(2 * BS + 99, 'dup'));
  await put('data/near-dup', Buffer.concat([text(2 * BS + 98, 'dup'), Buffer.from('!')]));
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-squashfs-'));
  src = join(tmp, 'src');
  await buildFixture(src);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function writeImage(name: string, tree: ImageDir, opts: SquashfsOptions): Promise<string> {
  const out = join(tmp, name);
  const sink = await createFileSink(out);
  try {
    await writeSquashfs(tree, sink, { codecs: nodeCodecs, ...opts });
  } catch (e) {
    await sink.abort(e);
    throw e;
  }
  await sink.close();
  return out;
}

/** Asserts two directories on disk hold the same tree: names, types, permission bits, bytes, symlink targets. */
function assertSameTree(actual: string, expected: string, where = ''): void {
  const names = (d: string) => readdirSync(d, { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
  assert.deepEqual(names(actual), names(expected), `entries of ${where || '/'}`);
  for (const name of names(expected)) {
    const a = Buffer.concat([Buffer.from(actual), Buffer.from('/'), Buffer.from(name, 'latin1')]);
    const e = Buffer.concat([Buffer.from(expected), Buffer.from('/'), Buffer.from(name, 'latin1')]);
    const sa = lstatSync(a);
    const se = lstatSync(e);
    const at = `${where}/${Buffer.from(name, 'latin1').toString()}`;
    assert.equal(sa.mode & 0o170000, se.mode & 0o170000, `type of ${at}`);
    if (se.isSymbolicLink()) {
      assert.deepEqual(readlinkSync(a, { encoding: 'buffer' }), readlinkSync(e, { encoding: 'buffer' }), `target of ${at}`);
      continue;
    }
    assert.equal((sa.mode & 0o7777).toString(8), (se.mode & 0o7777).toString(8), `mode of ${at}`);
    if (se.isDirectory()) assertSameTree(a.toString('latin1'), e.toString('latin1'), at);
    else assert.ok(readFileSync(a).equals(readFileSync(e)), `bytes of ${at}`);
  }
}

function permString(mode: number, type: string): string {
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (0o400 >> i) ? c : '-'));
  if (mode & 0o4000) bits[2] = bits[2] === 'x' ? 's' : 'S';
  if (mode & 0o2000) bits[5] = bits[5] === 'x' ? 's' : 'S';
  return type + bits.join('');
}

/** What `unsquashfs -lls` must print for `tree` (directory sizes are the image's own business). */
function expectedListing(tree: ImageDir, date: string): string[] {
  const lines = [`${permString(tree.mode, 'd')} root/root * ${date} squashfs-root`];
  for (const { path, node } of walk(tree)) {
    const p = `squashfs-root/${binaryToText(path)}`;
    if (node.kind === 'dir') lines.push(`${permString(node.mode, 'd')} root/root * ${date} ${p}`);
    else if (node.kind === 'file') lines.push(`${permString(node.mode, '-')} root/root ${node.data.size} ${date} ${p}`);
    else lines.push(`lrwxrwxrwx root/root ${node.target.length} ${date} ${p} -> ${binaryToText(node.target)}`);
  }
  return lines;
}

function parseListing(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\S{10}) (\S+)\s+(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/.exec(l);
      assert.ok(m, `unexpected unsquashfs -lls line: ${l}`);
      return `${m[1]} ${m[2]} ${m[1]!.startsWith('d') ? '*' : m[3]} ${m[4]} ${m[5]}`;
    });
}

function superblockFacts(out: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const [key, re] of [
    ['compression', /^Compression (\S+)/m],
    ['blockSize', /^Block size (\d+)/m],
    ['fragments', /^Number of fragments (\d+)/m],
    ['inodes', /^Number of inodes (\d+)/m],
    ['ids', /^Number of ids (\d+)/m],
    ['time', /^Creation or last append time (.*)$/m],
  ] as const) {
    facts[key] = re.exec(out)?.[1] ?? '(missing)';
  }
  facts['duplicates'] = /Duplicates are removed/.test(out) ? 'yes' : 'no';
  facts['exportable'] = /exportable via NFS/.test(out) ? 'yes' : 'no';
  return facts;
}

/** The image's size before padding, as unsquashfs reads it from the superblock. */
async function bytesUsed(img: string): Promise<number> {
  return Number(/^Filesystem size (\d+) bytes/m.exec(await sh('unsquashfs', ['-s', img]))?.[1]);
}

const MKSQUASHFS_COMP: Record<string, string[]> = {
  gzip: ['-comp', 'gzip'],
  xz: ['-comp', 'xz', '-Xbcj', 'x86', '-Xdict-size', '100%'],
  zstd: ['-comp', 'zstd', '-Xcompression-level', '19'],
};

/** Reads the image back with unsquashfs and squashfs-tools-ng and checks it against the source; returns its size ratio to mksquashfs'. */
async function checkImage(img: string, tree: ImageDir, codec: string, blockSize: number, label: string) {
  const facts = superblockFacts(await sh('unsquashfs', ['-s', img], { env: TZ }));
  let inodes = 1;
  for (const _ of walk(tree)) inodes++;
  assert.deepEqual(facts, {
    compression: codec,
    blockSize: String(blockSize),
    fragments: facts['fragments'],
    inodes: String(inodes),
    ids: '1',
    time: 'Tue Jan  1 00:00:00 1980',
    duplicates: 'yes',
    exportable: 'yes',
  });
  assert.ok(Number(facts['fragments']) >= 1, 'small files went to fragment blocks');

  assert.deepEqual(parseListing(await sh('unsquashfs', ['-lls', img], { env: TZ })), expectedListing(tree, '1980-01-01 00:00'));

  const out = join(tmp, `${label}-unsquashfs`);
  await sh('unsquashfs', ['-q', '-n', '-d', out, img]);
  assertSameTree(out, src);

  await rm(out, { recursive: true });

  // squashfs-tools-ng's reader, judged by GNU tar's --diff against the source (times differ by design).
  const diff = await run('sh', ['-c', 'sqfs2tar "$1" | tar -d -C "$2" 2>&1 | grep -v "Mod time differs"; sqfs2tar "$1" | tar -tf - | wc -l', 'sh', img, src]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.equal(diff.stdout.trim(), String(inodes - 1), 'sqfs2tar | tar -d finds no difference and archives every entry');

  return compareWithMksquashfs(img, [src], codec, blockSize, label);
}

/**
 * Runs mksquashfs on the same sources with the same settings and SOURCE_DATE_EPOCH, and returns its
 * image (for a byte comparison) and our size ratio to it.
 */
async function compareWithMksquashfs(img: string, sources: string[], codec: string, blockSize: number, label: string, extra: string[] = []) {
  const ref = join(tmp, `${label}-ref.img`);
  await sh('mksquashfs', [...sources, ref, '-no-hardlinks', '-all-root', '-b', String(blockSize), ...MKSQUASHFS_COMP[codec]!, ...extra, '-noappend', '-quiet'], {
    env: { SOURCE_DATE_EPOCH: '315532800' },
  });
  const ours = await bytesUsed(img);
  const theirs = await bytesUsed(ref);
  const ratio = ours / theirs;
  console.log(`squashfs ${label}: ${ours} bytes, mksquashfs ${theirs}: ${ratio.toFixed(4)}×`);
  const reference = await readFile(ref);
  await rm(ref);
  return { ratio, reference };
}

for (const codec of ['gzip', 'xz', 'zstd'] as const) {
  const claim = codec === 'gzip' ? 'within 1.5% of mksquashfs (fflate is not zlib)' : 'byte-identical to mksquashfs';
  test(`${codec} image of the fixture reads back with unsquashfs and sqfs2tar, ${claim}`, async () => {
    const tree = treeFromDisk(src);
    const compression = codec === 'gzip' ? { codec } : codec === 'xz' ? { codec, bcj: 'x86' as const } : { codec, level: 19 };
    const img = await writeImage(`${codec}.img`, tree, { blockSize: BS, compression });
    const { ratio, reference } = await checkImage(img, tree, codec, BS, codec);
    if (codec === 'gzip') assert.ok(ratio < 1.015, `image is ${ratio} × mksquashfs' size`);
    else assert.ok(reference.equals(await readFile(img)), `${codec} image differs from mksquashfs' (size ratio ${ratio})`);
  });
}

test('default 1 MiB blocks: files spanning several blocks, holes, duplicates', async () => {
  const dir = join(tmp, 'big');
  await mkdir(dir);
  const text = Buffer.from(Array.from({ length: 120000 }, (_, i) => `row ${i} ${i * 7919}\n`).join(''));
  await writeFile(join(dir, 'text'), text);
  await writeFile(join(dir, 'text-copy'), text);
  await writeFile(join(dir, 'holes'), Buffer.concat([Buffer.alloc(1 << 20), randomBytes(300000), Buffer.alloc(2 << 20)]));
  await writeFile(join(dir, 'small'), 'tail\n');
  const tree = treeFromDisk(dir);
  const img = await writeImage('big.img', tree, { compression: { codec: 'gzip' } });
  const out = join(tmp, 'big-out');
  await sh('unsquashfs', ['-q', '-n', '-d', out, img]);
  assertSameTree(out, dir);
  const facts = superblockFacts(await sh('unsquashfs', ['-s', img], { env: TZ }));
  assert.equal(facts['blockSize'], '1048576');
  // Two copies of a text of 2.1 MB, 3 MiB of holes: with the copy shared and the holes free, the image holds little more than one compressed text and the random part.
  assert.ok(lstatSync(img).size < 300000 + text.length / 2, `image of ${lstatSync(img).size} bytes keeps a copy or the holes`);
  await rm(out, { recursive: true });
});

/** An in-memory SeekableSink that records what was done to it. */
class MemorySeekable implements SeekableSink {
  private buf = new Uint8Array(1 << 16);
  private length = 0;
  writes = 0;
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  async write(chunk: Uint8Array) {
    if (this.length + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + chunk.length));
      next.set(this.bytes);
      this.buf = next;
    }
    this.buf.set(chunk, this.length);
    this.length += chunk.length;
    this.writes++;
  }
  async writeAt(offset: number, chunk: Uint8Array) {
    assert.ok(offset + chunk.length <= this.length, 'writeAt within what was written');
    this.buf.set(chunk, offset);
  }
  async close() {}
  async abort() {}
}

test('same tree, same bytes: in this thread and on a worker pool, twice', async () => {
  const tree = treeFromDisk(join(src, 'data'));
  const images: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    const sink = new MemorySeekable();
    await writeSquashfs(tree, sink, { blockSize: BS, compression: { codec: 'xz', bcj: 'x86' }, mtime: 1, codecs: nodeCodecs });
    images.push(sink.bytes);
  }
  const pool = createNodeCodecPool(2);
  try {
    const sink = new MemorySeekable();
    await writeSquashfs(tree, sink, { blockSize: BS, compression: { codec: 'xz', bcj: 'x86' }, mtime: 1, pool, maxInFlight: 4 });
    images.push(sink.bytes);
  } finally {
    await pool.close();
  }
  assert.ok(images[0]!.length > 2 * BS);
  assert.deepEqual(images[1], images[0]);
  assert.deepEqual(images[2], images[0]);
});

function fileOf(data: DataSource) {
  return { kind: 'file' as const, mode: 0o444, data };
}

test('trees and options squashfs cannot hold are refused before anything is written', async () => {
  const cases: [string, ImageDir, Partial<SquashfsOptions>, RegExp][] = [];
  const longName = newDir();
  longName.entries.set('x'.repeat(257), fileOf(bytesSource(new Uint8Array(1))));
  cases.push(['257-byte name', longName, {}, /name must be 1 to 256 bytes, this one is 257/]);
  const slash = newDir();
  slash.entries.set('a/b', fileOf(bytesSource(new Uint8Array(1))));
  cases.push(['name with a slash', slash, {}, /"a\/b" is not a valid file name/]);
  const badLink = newDir();
  badLink.entries.set('l', { kind: 'symlink', target: '' });
  cases.push(['empty symlink target', badLink, {}, /symlink target must be 1 to 4095 bytes/]);
  cases.push(['block size not a power of two', newDir(), { blockSize: 100000 }, /block size 100000 is not a power of two/]);
  cases.push(['block size too big', newDir(), { blockSize: 2 << 20 }, /block size 2097152/]);
  cases.push(['gzip level', newDir(), { compression: { codec: 'gzip', level: 12 } }, /gzip: level 12 is not 1-9/]);
  cases.push(['xz dictionary', newDir(), { compression: { codec: 'xz', dictSize: 3 << 20 } }, /dictionary size 3145728/]);
  cases.push(['mtime', newDir(), { mtime: 2 ** 32 }, /mtime 4294967296/]);
  for (const [what, tree, opts, message] of cases) {
    const sink = new MemorySeekable();
    await assert.rejects(writeSquashfs(tree, sink, { compression: { codec: 'gzip' }, codecs: nodeCodecs, ...opts }), (e: Error) => {
      assert.ok(e instanceof SquashfsError, `${what}: ${e}`);
      assert.match(e.message, message, what);
      return true;
    });
    assert.equal(sink.writes, 0, `${what}: nothing written`);
  }
});

test('a file whose data is shorter or longer than its size fails with its path, and the file sink leaves nothing', async () => {
  for (const [what, actual, message] of [
    ['short', 10, /"dir\/f": data ended after 10 of 20 bytes/],
    ['long', 30, /"dir\/f": data is longer than its size 20/],
  ] as const) {
    const tree = newDir();
    const dir = newDir();
    tree.entries.set('dir', dir);
    dir.entries.set('f', fileOf({ size: 20, stream: bytesSource(new Uint8Array(actual)).stream }));
    const out = join(tmp, `bad-${what}.img`);
    await assert.rejects(writeImage(`bad-${what}.img`, tree, { compression: { codec: 'gzip' } }), (e: Error) => e instanceof SquashfsError && message.test(e.message));
    assert.deepEqual(readdirSync(tmp).filter((n) => n.includes(`bad-${what}`)), [], `no file left for ${out}`);
  }
});

test('an empty tree is a valid image', async () => {
  const img = await writeImage('empty.img', newDir(0o755), { compression: { codec: 'gzip' }, mtime: 1 });
  assert.match(await sh('unsquashfs', ['-lls', img], { env: TZ }), /^drwxr-xr-x root\/root\s+3 1970-01-01 00:00 squashfs-root\n$/);
  assert.equal((await readFile(img)).length % 4096, 0);
});

test("make-squashfs.nix's image: nix-path-registration and each store path at the root, byte-identical to its mksquashfs command", async () => {
  const store = join(tmp, 'store');
  const hello = join(store, '0c0g8l3l4z0l6ab5qg8lmgsdrf4yfvk1-hello-2.12');
  const lib = join(store, '1bd9k1f0i4iq8d4yx5gp7k4pd6y3nyc6-lib-1.0');
  const single = join(store, '2fsz0hl7x0zf1n5dk8kpxpqm0z3b8szn-builder.sh');
  await mkdir(join(hello, 'bin'), { recursive: true });
  await writeFile(join(hello, 'bin/hello'), randomBytes(200000));
  await chmod(join(hello, 'bin/hello'), 0o555);
  await mkdir(join(hello, 'share/doc'), { recursive: true });
  await writeFile(join(hello, 'share/doc/README'), 'hello\n'.repeat(1000));
  await mkdir(join(lib, 'lib'), { recursive: true });
  await writeFile(join(lib, 'lib/libx.so.1.0'), randomBytes(1500000));
  await symlink('libx.so.1.0', join(lib, 'lib/libx.so.1'));
  await writeFile(single, '#!/bin/sh\necho built\n');
  await chmod(single, 0o444);
  const registration = join(tmp, 'nix-path-registration');
  await writeFile(registration, [hello, lib, single].map((p) => `${p}\nsha256:00\n0\n\n0\n`).join(''));
  await chmod(registration, 0o444);
  for (const p of [hello, join(hello, 'bin'), join(hello, 'share'), join(hello, 'share/doc'), lib, join(lib, 'lib')]) await chmod(p, 0o555);

  // mksquashfs 4.5.1 gives the root of a multi-source image mode 0777 (4.6 has -root-mode).
  const tree = newDir(0o777);
  for (const p of [registration, hello, lib, single]) tree.entries.set(p.slice(p.lastIndexOf('/') + 1), nodeFromDisk(Buffer.from(p)));
  for (const [codec, compression] of [
    ['zstd', { codec: 'zstd', level: 19 }],
    ['xz', { codec: 'xz', bcj: 'x86' }],
  ] as const) {
    const img = await writeImage(`make-squashfs-${codec}.img`, tree, { compression });
    const { reference } = await compareWithMksquashfs(img, [registration, hello, lib, single], codec, 1 << 20, `make-squashfs-${codec}`, ['-keep-as-directory']);
    assert.ok(reference.equals(await readFile(img)), `${codec}: image differs from make-squashfs.nix's mksquashfs`);
  }
  for (const p of [hello, join(hello, 'bin'), join(hello, 'share'), join(hello, 'share/doc'), lib, join(lib, 'lib')]) await chmod(p, 0o755);
});

test('a file over 4 GiB (all holes) gets the extended inode with the sparse count and start mksquashfs gives it', async () => {
  const tree = newDir(0o755);
  // Zeros from memory: mksquashfs would need a minute to read 4 GiB of holes here, so the fields
  // it writes (compared by hand once: byte-identical) are checked through rdsquashfs instead.
  const zeros = new Uint8Array(1 << 22);
  const size = 2 ** 32 + 5;
  tree.entries.set('disk.img', fileOf({ size, async *stream() { for (let at = 0; at < size; at += zeros.length) yield zeros.subarray(0, Math.min(zeros.length, size - at)); } }));
  tree.entries.set('next', fileOf(bytesSource(new TextEncoder().encode('a file after the big one\n'))));
  const img = await writeImage('huge.img', tree, { compression: { codec: 'zstd', level: 19 } });
  assert.match(await sh('unsquashfs', ['-lls', img], { env: TZ }), /-r--r--r-- root\/root\s+4294967301 1980-01-01 00:00 squashfs-root\/disk\.img/);
  const stat = await sh('rdsquashfs', ['-s', '/disk.img', img]);
  assert.match(stat, /Inode type: extended file/);
  assert.match(stat, /File size: 4294967301\nSparse: 4294967300\n/, 'mksquashfs counts at most size - 1 sparse bytes');
  // With no block stored, the start is where data would go: after the superblock and zstd's options.
  assert.match(stat, /Blocks start: 102\nBlock count: 4097\n/);
  assert.equal(await sh('rdsquashfs', ['-c', '/next', img]), 'a file after the big one\n');
});

test('blocks finishing out of order on a slow, uneven compressor still land in order: same bytes as in-thread', async () => {
  const tree = treeFromDisk(join(src, 'data'));
  const plain = new MemorySeekable();
  await writeSquashfs(tree, plain, { blockSize: BS, compression: { codec: 'gzip' }, codecs: nodeCodecs });
  let calls = 0;
  const uneven: BlockCompress = async (data) => {
    // Later blocks often finish first.
    await new Promise((r) => setTimeout(r, (calls++ * 7) % 11));
    return zlibSync(data, { level: 9 });
  };
  const progress: number[] = [];
  const shuffled = new MemorySeekable();
  await writeSquashfs(tree, shuffled, {
    codecs: nodeCodecs,
    blockSize: BS,
    compression: { codec: 'gzip' },
    compress: { data: uneven, metadata: uneven },
    maxInFlight: 8,
    onProgress: (done, total) => progress.push(done / total),
  });
  assert.ok(calls > 10, `${calls} blocks compressed`);
  assert.deepEqual(shuffled.bytes, plain.bytes);
  assert.equal(progress.at(-1), 1);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
});

test('a compressor failure rejects the write with that error and the file sink leaves nothing', async () => {
  let calls = 0;
  const failing: BlockCompress = async (data) => {
    if (++calls === 3) throw new Error('worker died on block 3');
    return zlibSync(data);
  };
  const tree = treeFromDisk(join(src, 'data'));
  await assert.rejects(
    writeImage('failing.img', tree, { blockSize: BS, compression: { codec: 'gzip' }, compress: { data: failing, metadata: failing }, maxInFlight: 4 }),
    /worker died on block 3/,
  );
  assert.deepEqual(readdirSync(tmp).filter((n) => n.includes('failing')), []);
});

test('files whose duplicate keys collide keep their own bytes; a true duplicate beside them is still shared', async () => {
  // Birthday search over 8-byte contents for two that share a contentKey (30 bits: ~2^15 tries).
  const seen = new Map<number, Buffer>();
  let pair: [Buffer, Buffer] | undefined;
  for (let i = 0; !pair; i++) {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn);
    const key = contentKey(bytes.length, bytes);
    const other = seen.get(key);
    if (other) pair = [other, bytes];
    else seen.set(key, bytes);
  }
  const dir = join(tmp, 'collide');
  await mkdir(dir);
  await writeFile(join(dir, 'a'), pair[0]);
  await writeFile(join(dir, 'b'), pair[1]);
  await writeFile(join(dir, 'c'), pair[0]);
  const img = await writeImage('collide.img', treeFromDisk(dir), { compression: { codec: 'gzip' } });
  const out = join(tmp, 'collide-out');
  await sh('unsquashfs', ['-q', '-n', '-d', out, img]);
  assertSameTree(out, dir);
  await rm(out, { recursive: true });
});
