import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ext4Image, Ext4Error, type Ext4Options } from '../core/ext4/ext4-writer.ts';
import { addPath, newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { bytesToBinary, textToBinary } from '../core/io/binary-string.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import { isZeros } from '../core/io/sparse.ts';
import { run, sh } from './helpers/cli.ts';
import { describeDisk, describeImage } from './helpers/describe-tree.ts';
import { writeSparseFile } from '../node/sparse-file.ts';
import { sparseData } from './helpers/sparse-data.ts';

// The ext4 writer judged by e2fsprogs: e2fsck -fn must pass every image, and debugfs (its own
// reader of the on-disk format) must give back every name, mode, target and byte.

const OPTS: Ext4Options = {
  label: 'nixos',
  uuid: 'f222513b-ded1-49fa-b591-20ce86a2fe7f',
  hashSeed: '6b0b4c1d-6a2e-4f38-9a0e-2c5d3e4f5a6b',
  time: 315532800,
  size: 'auto',
};

let tmp: string;
let serial = 0;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-ext4-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

// debugfs rdump restores the permission bits only; setuid, setgid and sticky are checked with stat.
const rdumpMode = (n: ImageNode) => (n.kind === 'symlink' ? 0o777 : n.mode & 0o777);
const file = (bytes: Uint8Array | string, mode = 0o444): ImageNode => ({
  kind: 'file', mode, data: bytesSource(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes),
});

async function writeImage(root: ImageDir, opts: Partial<Ext4Options> = {}): Promise<string> {
  const img = join(tmp, `i${serial++}.img`);
  await writeSparseFile(ext4Image(root, { ...OPTS, ...opts }), img);
  return img;
}

async function e2fsck(img: string): Promise<void> {
  const r = await run('e2fsck', ['-fn', img]);
  assert.equal(r.code, 0, `e2fsck -fn ${img}:\n${r.stdout}${r.stderr}`);
}

const debugfs = (img: string, request: string) => sh('debugfs', ['-R', request, img]);

/** e2fsck passes, and debugfs rdump gives back the tree exactly (plus the writer's empty lost+found). */
async function assertReadsBack(img: string, root: ImageDir): Promise<void> {
  await e2fsck(img);
  const out = join(tmp, `x${serial++}`);
  await sh('mkdir', [out]);
  await debugfs(img, `rdump / ${out}`);
  const lostFound = lstatSync(join(out, 'lost+found'));
  assert.ok(lostFound.isDirectory() && (lostFound.mode & 0o7777) === 0o700, 'lost+found is a 0700 directory');
  await rm(join(out, 'lost+found'), { recursive: true });
  assert.deepEqual(describeDisk(Buffer.from(out)), await describeImage(root, rdumpMode));
  await rm(out, { recursive: true, force: true });
}

function dumpe2fsFacts(out: string): Map<string, string> {
  return new Map(out.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** Names of `count` entries, each of `length` bytes, distinct. */
const names = (count: number, length: number) => Array.from({ length: count }, (_, i) => `${String(i).padStart(6, '0')}`.padEnd(length, 'n'));

function fixture(): ImageDir {
  const root = newDir(0o755);
  addPath(root, 'bin/hello', file('#!/bin/sh\necho hello\n', 0o555));
  addPath(root, 'bin/tool', file(randomBytes(300 * 1024 + 17), 0o755));
  for (const n of [0, 1, 4095, 4096, 4097, 8192 + 1]) addPath(root, `sizes/s${n}`, file(randomBytes(n)));
  addPath(root, 'modes/setuid', file('x', 0o4755));
  addPath(root, 'modes/private', file('y', 0o600));
  addPath(root, 'modes/sticky', { ...newDir(0o1777) });
  addPath(root, 'modes/store-dir', newDir(0o555));
  addPath(root, 'links/fast59', { kind: 'symlink', target: 'f'.repeat(59) });
  addPath(root, 'links/slow60', { kind: 'symlink', target: 's'.repeat(60) });
  addPath(root, 'links/max', { kind: 'symlink', target: `/${'m'.repeat(4094)}` });
  addPath(root, 'links/store', { kind: 'symlink', target: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello/bin/hello' });
  const weird = newDir(0o755);
  // Every byte at the front and inside a hashed word: the htree hash reads bytes as signed chars.
  for (let b = 1; b < 256; b++) if (b !== 0x2f && b !== 0x2e) weird.entries.set(`${String.fromCharCode(b)}-${String.fromCharCode(b).repeat(2)}-byte`, file(`byte ${b}`));
  weird.entries.set('m'.repeat(255), file('longest name'));
  weird.entries.set(textToBinary('ünïcødé-名前'), file('utf-8'));
  addPath(root, 'names', weird);
  addPath(root, `deep/${Array.from({ length: 30 }, (_, i) => `d${i}`).join('/')}/leaf`, file('bottom\n'));
  // 10 000 entries: an htree with one index block; 9 000 names of 250 bytes need a second level.
  for (const n of names(10000, 12)) addPath(root, `many/${n}`, file(n));
  for (const n of names(9000, 250)) addPath(root, `long-names/${n}`, file(''));
  return root;
}

test('a fixture tree: e2fsck is clean, debugfs reads every entry back, dumpe2fs shows the features, label, UUID and seed', async () => {
  const root = fixture();
  const img = await writeImage(root);
  await assertReadsBack(img, root);

  const facts = dumpe2fsFacts(await sh('dumpe2fs', ['-h', img]));
  assert.deepEqual(facts.get('Filesystem features')!.split(' ').sort(), [
    '64bit', 'dir_index', 'dir_nlink', 'ext_attr', 'extent', 'extra_isize', 'filetype', 'flex_bg', 'has_journal',
    'huge_file', 'large_file', 'metadata_csum', 'sparse_super',
  ]);
  assert.equal(facts.get('Filesystem volume name'), 'nixos');
  assert.equal(facts.get('Filesystem UUID'), OPTS.uuid);
  assert.equal(facts.get('Directory Hash Seed'), OPTS.hashSeed);
  assert.equal(facts.get('Default directory hash'), 'half_md4');
  assert.equal(facts.get('Filesystem created'), 'Tue Jan  1 00:00:00 1980');
  assert.equal(facts.get('Journal features'), '(none)', 'as mke2fs leaves a new journal');
  assert.equal(facts.get('Checksum type'), 'crc32c');

  const many = await debugfs(img, 'htree /many');
  assert.match(many, /Indirect levels: 0/);
  assert.match(many, /Number of entries \(count\): [1-9]\d+/);
  const long = await debugfs(img, 'htree /long-names');
  assert.match(long, /Indirect levels: 1/);
  assert.match(await debugfs(img, 'stat /many'), /Flags: 0x81000/);
  assert.match(await debugfs(img, 'stat /names'), /Flags: 0x81000/, 'the names of every byte are hashed into an htree');
  assert.match(await debugfs(img, 'stat /sizes'), /Flags: 0x80000\n/, 'a one-block directory stays linear');
  assert.match(await debugfs(img, 'stat /links/fast59'), /Fast link dest: "f{59}"/);
  assert.doesNotMatch(await debugfs(img, 'stat /links/slow60'), /Fast link dest/);
  assert.match(await debugfs(img, 'stat /bin/hello'), /User: {5}0 {3}Group: {5}0/);
  assert.match(await debugfs(img, 'stat /modes'), /Links: 4/, 'a directory counts its subdirectories');
  assert.match(await debugfs(img, 'stat /modes/setuid'), /Mode: {2}04755/);
  assert.match(await debugfs(img, 'stat /modes/sticky'), /Mode: {2}01777/);
});

test('sparse files keep their holes, and a file over 4 GiB maps its far blocks', async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const root = newDir(0o755);
  const small = sparseData(1 << 20, [{ offset: 5000, bytes: enc('in block one') }, { offset: 700000, bytes: randomBytes(9000) }]);
  root.entries.set('holes', { kind: 'file', mode: 0o444, data: small });
  const far = 2 ** 32 + 12345;
  const huge = sparseData(5 * 2 ** 30, [{ offset: 0, bytes: enc('first') }, { offset: far, bytes: enc('past 4 GiB') }, { offset: 5 * 2 ** 30 - 4, bytes: enc('last') }]);
  root.entries.set('huge', { kind: 'file', mode: 0o444, data: huge });
  // Many data runs: an extent tree two levels deep (more than 4 * 340 extents).
  const runs = Array.from({ length: 1500 }, (_, i) => ({ offset: i * 2 * 4096, bytes: enc(`run ${i}`) }));
  root.entries.set('fragmented', { kind: 'file', mode: 0o444, data: sparseData(1500 * 2 * 4096, runs) });
  const img = await writeImage(root);
  await e2fsck(img);
  assert.ok(statSync(img).blocks * 512 < 64 << 20, 'holes stay holes in the image file');

  assert.match(await debugfs(img, 'stat /huge'), /Size: 5368709120\n/);
  const extents = await debugfs(img, 'dump_extents /huge');
  const leaf = [...extents.matchAll(/^\s*\d+\/\s*\d+\s+\d+\/\s*\d+\s+(\d+) - +(\d+)\s+(\d+) - +(\d+)\s+(\d+)/gm)].map((m) => m.slice(1, 6).map(Number));
  assert.deepEqual(leaf.map(([l, , , , n]) => [l, n]), [[0, 1], [Math.floor(far / 4096), 1], [5 * 2 ** 18 - 1, 1]], 'three one-block extents');
  const fd = openSync(img, 'r');
  const at = (block: number, offset: number, n: number) => {
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, block * 4096 + offset);
    return b.toString();
  };
  assert.equal(at(leaf[1]![2]!, far % 4096, 10), 'past 4 GiB');
  assert.equal(at(leaf[2]![2]!, 4092, 4), 'last');
  closeSync(fd);
  assert.match(await debugfs(img, 'dump_extents /fragmented'), /^\s*2\/\s*2/m, 'a depth-2 tree');

  const small2 = newDir(0o755);
  small2.entries.set('holes', { kind: 'file', mode: 0o444, data: small });
  small2.entries.set('fragmented', { kind: 'file', mode: 0o444, data: sparseData(1500 * 2 * 4096, runs) });
  await assertReadsBack(await writeImage(small2), small2);
});

test('a 300 MiB file runs around the superblock copy of group 1 and reads back byte for byte', async () => {
  const size = 300 * 2 ** 20 + 123;
  const pattern = new Uint8Array(1 << 20).map((_, i) => (i * 131 + 7) & 0xff);
  const data: DataSource = {
    size,
    async *stream() {
      for (let at = 0; at < size; at += pattern.length) yield pattern.slice(0, Math.min(pattern.length, size - at)).map((b) => b ^ (at >> 20));
    },
  };
  const expected = createHash('sha256');
  for await (const c of data.stream()) expected.update(c);
  const root = newDir(0o755);
  root.entries.set('big', { kind: 'file', mode: 0o444, data });
  const img = await writeImage(root);
  await e2fsck(img);
  const extents = await debugfs(img, 'dump_extents /big');
  assert.match(extents, / 32770 - /, 'an extent starts after group 1\'s superblock copy and descriptor block');
  const out = join(tmp, 'big.out');
  await debugfs(img, `dump /big ${out}`);
  const got = createHash('sha256').update(readFileSync(out)).digest('hex');
  assert.equal(got, expected.digest('hex'));
  await rm(out);
  await rm(img);
});

test('a directory of more than 65 000 subdirectories (a big /nix/store) counts 1 link, as dir_nlink says', async () => {
  const root = newDir(0o755);
  const store = newDir(0o1775);
  root.entries.set('store', store);
  for (let i = 0; i < 65001; i++) store.entries.set(`${String(i).padStart(32, 'a')}-p`, newDir(0o555));
  const img = await writeImage(root);
  await e2fsck(img);
  const stat = await debugfs(img, 'stat /store');
  assert.match(stat, /Links: 1\s/);
  assert.match(stat, /Mode: {2}01775/);
  assert.match(await debugfs(img, 'stat /'), /Links: 4\s/);
  await rm(img);
});

test('symlinks of every length from 1 to 4095 bytes, fast and slow, read back', async () => {
  const root = newDir(0o755);
  const links = newDir(0o755);
  for (let n = 1; n <= 4095; n++) {
    const target = bytesToBinary(randomBytes(n).map((b) => (b === 0 ? 1 : b)));
    links.entries.set(`l${n}`, { kind: 'symlink', target });
  }
  root.entries.set('links', links);
  await assertReadsBack(await writeImage(root), root);
});

const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 255 })
  .map((b) => bytesToBinary(b.map((x) => (x === 0 || x === 0x2f ? 0x5f : x))))
  .filter((n) => n !== '.' && n !== '..' && n !== 'lost+found');
const targetArb = fc.oneof(
  fc.integer({ min: 1, max: 4095 }),
  fc.integer({ min: 55, max: 65 }),
).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => bytesToBinary(b.map((x) => (x === 0 ? 0x2e : x)))));
const dataArb: fc.Arbitrary<DataSource> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map(bytesSource),
  fc.uint8Array({ minLength: 4000, maxLength: 20000 }).map(bytesSource),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.uint8Array({ minLength: 1, maxLength: 5000 })), { maxLength: 5 }).map((ps) => {
    const pieces = ps.map(([block, bytes], i) => ({ offset: (block + i * 201) * 4096 + (bytes.length % 4096), bytes }));
    const end = pieces.reduce((n, p) => Math.max(n, p.offset + p.bytes.length), 0);
    return sparseData(end + 3000, pieces);
  }),
);
type Spec = { kind: 'file'; mode: number; data: DataSource } | { kind: 'symlink'; target: string } | { kind: 'dir'; mode: number; entries: [string, Spec][] };
const specArb: fc.Arbitrary<Spec> = fc.letrec<{ node: Spec }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.record({ kind: fc.constant('file' as const), mode: fc.constantFrom(0o444, 0o555, 0o644, 0o755, 0o600, 0o4755, 0o2555), data: dataArb }),
    fc.record({ kind: fc.constant('symlink' as const), target: targetArb }),
    fc.record({ kind: fc.constant('dir' as const), mode: fc.constantFrom(0o555, 0o755, 0o700, 0o1777), entries: fc.array(fc.tuple(nameArb, tie('node')), { maxLength: 8 }) }),
  ),
})).node;

function toNode(s: Spec): ImageNode {
  if (s.kind !== 'dir') return s.kind === 'file' ? { kind: 'file', mode: s.mode, data: s.data } : s;
  const dir = newDir(s.mode);
  for (const [name, child] of s.entries) dir.entries.set(name, toNode(child));
  return dir;
}

test('property: random trees (names of any bytes, modes, symlinks near the fast/slow boundary, sparse files) pass e2fsck and read back through debugfs', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(nameArb, specArb), { minLength: 1, maxLength: 10 }), async (entries) => {
      const root = toNode({ kind: 'dir', mode: 0o755, entries }) as ImageDir;
      const img = await writeImage(root);
      await assertReadsBack(img, root);
      await rm(img);
    }),
    { numRuns: 25, seed: 20261206 },
  );
});

test('times after 2038 use the epoch bits of inodes and the superblock', async () => {
  const root = newDir(0o755);
  root.entries.set('f', file('x'));
  const img = await writeImage(root, { time: 4102444800 });
  await e2fsck(img);
  assert.match(await debugfs(img, 'stat /f'), /mtime: 0xf4865700:00000001 -- Fri Jan {2}1 00:00:00 2100/);
  assert.equal(dumpe2fsFacts(await sh('dumpe2fs', ['-h', img])).get('Filesystem created'), 'Fri Jan  1 00:00:00 2100');
});

async function digest(root: ImageDir, opts: Partial<Ext4Options> = {}): Promise<string> {
  const h = createHash('sha256');
  for await (const c of ext4Image(root, { ...OPTS, ...opts }).chunks()) h.update(isZeros(c) ? `zeros ${c.zeros}` : c);
  return h.digest('hex');
}

test('same inputs give the same bytes; the UUID, seed and time change them', async () => {
  const tree = () => {
    const root = newDir(0o755);
    for (const n of names(600, 30)) addPath(root, `d/${n}`, file(n));
    return root;
  };
  const a = await digest(tree());
  assert.equal(await digest(tree()), a);
  assert.notEqual(await digest(tree(), { uuid: '00000000-0000-4000-8000-000000000001' }), a);
  assert.notEqual(await digest(tree(), { hashSeed: '00000000-0000-4000-8000-000000000001' }), a);
  assert.notEqual(await digest(tree(), { time: 1 }), a);
});

test('allocated() covers every non-zero byte, and the zero runs lie outside it', async () => {
  const root = fixture();
  const image = ext4Image(root, { ...OPTS, size: 600 << 20 });
  const ranges = image.allocated();
  let at = 0;
  let r = 0;
  for await (const c of image.chunks()) {
    const n = isZeros(c) ? c.zeros : c.length;
    while (r < ranges.length && ranges[r]!.offset + ranges[r]!.length <= at) r++;
    const inside = r < ranges.length && ranges[r]!.offset <= at;
    if (isZeros(c)) assert.ok(!inside || ranges[r]!.offset >= at + n, `zero run at ${at} overlaps an allocated range`);
    else assert.ok(inside && ranges[r]!.offset + ranges[r]!.length >= at + n, `bytes at ${at}+${n} outside the allocated ranges`);
    at += n;
  }
  assert.equal(at, 600 << 20);
});

test('a given size: the image has exactly that many bytes, 5% reserved, groups as mke2fs makes them', async () => {
  const root = newDir(0o755);
  root.entries.set('f', file('data'));
  const size = 600 * 2 ** 20 + 2048;
  const image = ext4Image(root, { ...OPTS, size });
  assert.equal(image.size, size);
  const img = join(tmp, 'sized.img');
  await writeSparseFile(image, img);
  await e2fsck(img);
  const facts = dumpe2fsFacts(await sh('dumpe2fs', ['-h', img]));
  assert.equal(facts.get('Block count'), String(Math.floor(size / 4096)));
  assert.equal(facts.get('Reserved block count'), String(Math.floor((Math.floor(size / 4096) * 5) / 100)));
  assert.equal(facts.get('Inode count'), String(38400), 'one inode per 16 KiB from 512 MiB on');
  // A last group too small for its superblock copy is left out, as mke2fs leaves it out.
  const short = join(tmp, 'short-group.img');
  await writeSparseFile(ext4Image(root, { ...OPTS, size: 128 * 2 ** 20 + 8192 }), short);
  await e2fsck(short);
  assert.equal(dumpe2fsFacts(await sh('dumpe2fs', ['-h', short])).get('Block count'), '32768');
  assert.equal(statSync(short).size, 128 * 2 ** 20 + 8192);
});

test('auto size with headroom: at least that much is free, and not a MiB more than needed', async () => {
  const root = newDir(0o755);
  for (const n of names(3000, 20)) addPath(root, `d/${n}`, file(n));
  const headroom = 16 << 20;
  const img = await writeImage(root, { headroom });
  await e2fsck(img);
  const free = Number(dumpe2fsFacts(await sh('dumpe2fs', ['-h', img])).get('Free blocks')) * 4096;
  assert.ok(free >= headroom && free < headroom + (1 << 20) + 4096 * 64, `${free} bytes free`);
});

test('too small a size is refused before any output, saying how many bytes are needed; that many work', async () => {
  const root = newDir(0o755);
  root.entries.set('big', file(new Uint8Array(20 << 20).fill(7)));
  let message = '';
  assert.throws(() => ext4Image(root, { ...OPTS, size: 16 << 20 }), (e: unknown) => {
    message = (e as Error).message;
    return e instanceof Ext4Error;
  });
  const least = Number(/at least (\d+) bytes are needed/.exec(message)?.[1]);
  assert.ok(least > 20 << 20, message);
  await e2fsck(await writeImage(root, { size: least }));
  assert.throws(() => ext4Image(root, { ...OPTS, size: least - 4 * 2 ** 20 }), /at least \d+ bytes are needed/);
});

test('bad input: long names and targets, bad UUIDs, a too-long label, short data, all named', async () => {
  const root = (name: string, node: ImageNode) => {
    const r = newDir(0o755);
    addPath(r, `dir/${name}`, node);
    return r;
  };
  assert.throws(() => ext4Image(root('n'.repeat(256), file('x')), OPTS), /\/dir\/n{256}: name of 256 bytes is longer than ext4's 255/);
  assert.throws(() => ext4Image(root('l', { kind: 'symlink', target: 't'.repeat(4096) }), OPTS), /\/dir\/l: symlink target of 4096 bytes/);
  assert.throws(() => ext4Image(root('f', file('x')), { ...OPTS, uuid: 'not-a-uuid' }), /uuid "not-a-uuid" is not a UUID/);
  assert.throws(() => ext4Image(root('f', file('x')), { ...OPTS, label: 'x'.repeat(17) }), /17 bytes; ext4 labels hold 16/);
  const lying: DataSource = { size: 100, async *stream() { yield new Uint8Array(40); } };
  const image = ext4Image(root('short', { kind: 'file', mode: 0o444, data: lying }), OPTS);
  await assert.rejects(async () => {
    for await (const c of image.chunks()) void c;
  }, /\/dir\/short: the data ended before its 100 bytes/);
  assert.throws(() => ext4Image(root('f', file('x')), { ...OPTS, inodes: 5 }), /inodes 5: the tree needs at least 13/);
  assert.throws(() => ext4Image(root('f', file('x')), { ...OPTS, time: -1 }), /time -1 is not whole seconds/);
  assert.throws(() => ext4Image(root('f', file('x')), { ...OPTS, size: 1.5 }), /size 1.5 is not a byte count/);
  const lost = newDir(0o755);
  lost.entries.set('lost+found', newDir(0o700));
  assert.throws(() => ext4Image(lost, OPTS), /lost\+found/);
});

test('beside mke2fs -t ext4 -d on the same tree and size: the same superblock facts, the same tree read back', async () => {
  const src = join(tmp, 'mke2fs-src');
  await sh('mkdir', ['-p', `${src}/bin`, `${src}/share/doc`]);
  await sh('sh', ['-c', `printf 'hello\\n' > "$1/bin/hello" && head -c 70000 /dev/urandom > "$1/share/blob" && ln -s ../bin/hello "$1/share/link" && chmod 555 "$1/bin/hello" "$1/bin" && chmod 444 "$1/share/blob"`, 'sh', src]);
  const { treeFromDisk } = await import('../node/fs-tree.ts');
  const size = 64 << 20;
  const ours = await writeImage(treeFromDisk(src), { size });
  const theirs = join(tmp, 'mke2fs.img');
  await sh('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-O', '^resize_inode', '-L', 'nixos', '-U', OPTS.uuid, '-E', `hash_seed=${OPTS.hashSeed},root_owner=0:0`, '-d', src, theirs, `${size / 1024}k`], {
    env: { SOURCE_DATE_EPOCH: String(OPTS.time), E2FSPROGS_FAKE_TIME: String(OPTS.time) },
  });
  await e2fsck(ours);
  // mke2fs 1.47.0 takes its creation time from the clock and counts the bytes it wrote.
  const differ = new Set(['Filesystem created', 'Last checked', 'Lifetime writes', 'Checksum']);
  const facts = async (img: string) => [...dumpe2fsFacts(await sh('dumpe2fs', ['-h', img]))].filter(([k]) => !differ.has(k));
  assert.deepEqual(await facts(ours), await facts(theirs));
  const dump = async (img: string) => {
    const out = join(tmp, `d${serial++}`);
    await sh('mkdir', [out]);
    await debugfs(img, `rdump / ${out}`);
    return describeDisk(Buffer.from(out));
  };
  assert.deepEqual(await dump(ours), await dump(theirs));
});
