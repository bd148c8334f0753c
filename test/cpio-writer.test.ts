// core/cpio against GNU cpio 2.13 (byte for byte, as make-initrd-ng runs it) and as read back by
// GNU cpio and bsdtar: every name, mode, symlink target and byte of the tree.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cpioSize, cpioStream } from '../core/cpio/cpio-writer.ts';
import { CpioError } from '../core/cpio/cpio-error.ts';
import { SMALL_FILE } from '../core/io/read-ahead.ts';
import { newDir, type ImageDir } from '../core/image/tree.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-cpio-'));
after(() => {
  execFileSync('chmod', ['-R', 'u+rwx', tmp]); // trees hold 0555 dirs, as the store does
  rmSync(tmp, { recursive: true, force: true });
});
let dirs = 0;
const fresh = (name: string) => {
  const d = join(tmp, `${name}-${dirs++}`);
  mkdirSync(d);
  return d;
};

const EPOCH = 1700000000;

/** make-initrd-ng's command (with find's names in C byte order), after every mtime is set to `mtime`. */
function gnuCpio(dir: string, mtime: number): Buffer {
  const script = `cd "$1" && find . -exec touch -h -d @${mtime} {} + && find . -print0 | LC_ALL=C sort -z | cpio --quiet -o -H newc -R +0:+0 --reproducible --null`;
  return execFileSync('bash', ['-c', script, 'gnu-cpio', dir], { maxBuffer: 1 << 30 });
}

async function ours(root: ImageDir, mtime = EPOCH): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of cpioStream(root, { mtime })) parts.push(chunk.slice());
  return Buffer.concat(parts);
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const at = Math.max(0, i - 60);
      return `byte ${i}:\n ours   ${JSON.stringify(a.subarray(at, i + 60).toString('latin1'))}\n theirs ${JSON.stringify(b.subarray(at, i + 60).toString('latin1'))}`;
    }
  }
  return `lengths ${a.length} vs ${b.length}`;
}

async function assertSameAsGnuCpio(dir: string): Promise<Buffer> {
  const root = treeFromDisk(dir);
  const theirs = gnuCpio(dir, EPOCH);
  const mine = await ours(root);
  if (!mine.equals(theirs)) assert.fail(`cpioStream differs from GNU cpio at ${firstDifference(mine, theirs)}`);
  assert.equal(cpioSize(root), theirs.length, 'cpioSize');
  return mine;
}

/** Every path below `dir` with its type, permissions and content (sha256) or link target. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    const full = join(dir, rel);
    const st = lstatSync(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      if (rel !== '') out.push(`${rel} d ${mode}`);
      for (const name of readdirSync(full)) visit(rel === '' ? name : `${rel}/${name}`);
    } else if (st.isSymbolicLink()) out.push(`${rel} l -> ${readlinkSync(full)}`);
    else out.push(`${rel} f ${mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
  };
  visit('');
  return out.sort();
}

/** Files, dirs and symlinks of every shape newc pads: name lengths and sizes at every value mod 4. */
function buildFixture(dir: string): void {
  const file = (p: string, data: Uint8Array | string, mode = 0o444) => {
    writeFileSync(join(dir, p), data);
    chmodSync(join(dir, p), mode);
  };
  mkdirSync(join(dir, 'pad'));
  for (let len = 1; len <= 8; len++) for (let size = 0; size < 8; size++) file(`pad/${String(size).padEnd(len, 'x')}${'_'.repeat(size % 2)}`, 'y'.repeat(size));
  mkdirSync(join(dir, 'bin/sub/deeper'), { recursive: true });
  file('bin/tool', '#!/bin/sh\necho tool\n', 0o555);
  file('bin/big', Buffer.alloc(3 * SMALL_FILE + 12345, 7), 0o644);
  for (let len = 1; len <= 8; len++) symlinkSync('t'.repeat(len), join(dir, `bin/sub/l${len}`));
  symlinkSync('/nix/store/aaaa-target/bin/thing', join(dir, 'abs-link'));
  // "a-b" sorts before "a/c" in find | sort, unlike a walk of sorted directories.
  mkdirSync(join(dir, 'a'));
  file('a/c', 'c');
  file('a-b', 'ab');
  file('a.b', 'a.b');
  mkdirSync(join(dir, 'empty'));
  file(Buffer.from([0x6e, 0xff, 0xfe, 0x2e]).toString('latin1'), 'not utf-8 name');
  mkdirSync(join(dir, 'ro'));
  file('ro/x', 'x', 0o400);
  chmodSync(join(dir, 'ro'), 0o555);
  chmodSync(join(dir, 'bin/sub/deeper'), 0o700);
}

test('byte-identical to GNU cpio -o -H newc --reproducible -R +0:+0 (make-initrd-ng) on every padding case', async () => {
  const src = fresh('src');
  buildFixture(src);
  const archive = await assertSameAsGnuCpio(src);
  // Every header starts on a 4-byte boundary.
  for (let at = archive.indexOf('070701'); at >= 0; at = archive.indexOf('070701', at + 1)) {
    if (archive.subarray(at, at + 6).toString() === '070701' && archive[at + 6] !== undefined && /^[0-9A-F]{8}$/.test(archive.subarray(at + 6, at + 14).toString())) {
      assert.equal(at % 4, 0, `header at ${at}`);
    }
  }
  assert.equal(archive.length % 512, 0);
});

test('GNU cpio -idv and bsdtar extract every name, mode, link target and byte of the tree', async () => {
  const src = fresh('src');
  buildFixture(src);
  const archive = await ours(treeFromDisk(src));
  const viaCpio = fresh('cpio-x');
  execFileSync('cpio', ['-idv', '--quiet', '--no-absolute-filenames'], { cwd: viaCpio, input: archive, stdio: ['pipe', 'ignore', 'ignore'] });
  const viaBsdtar = fresh('bsdtar-x');
  execFileSync('bsdtar', ['-xpf', '-', '-C', viaBsdtar], { input: archive });
  const expected = snapshot(src);
  assert.deepEqual(snapshot(viaCpio), expected);
  assert.deepEqual(snapshot(viaBsdtar), expected);
  // bsdtar's listing: owners root, the mtime, and the entries in find | sort order.
  const listing = execFileSync('bsdtar', ['-tvf', '-', '--numeric-owner'], { input: archive, encoding: 'latin1', env: { ...process.env, TZ: 'UTC' } }).trim().split('\n');
  assert.equal(listing.length, expected.length + 1);
  for (const line of listing) assert.match(line, /^\S+\s+\d+ 0\s+0\s+\d+ Nov 14\s+2023 /, line);
  const names = listing.map((l) => l.replace(/^(\S+\s+){8}/, '').replace(/ -> .*$/, ''));
  assert.deepEqual(names, ['.', ...[...names.slice(1)].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')))]);
  assert.ok(names.indexOf('a-b') < names.indexOf('a/c'));
});

/** A random tree on disk: names from bytes that sort around "/" and "." and need padding of every length. */
const nameArb = fc
  .array(fc.constantFrom(...'ab-._~Z0'.split(''), '\u00e9'), { minLength: 1, maxLength: 9 })
  .map((cs) => cs.join(''))
  .filter((n) => n !== '.' && n !== '..');
type Spec = { [name: string]: Spec | { size: number } | { link: string } };
const specArb: fc.Arbitrary<Spec> = fc.letrec<{ dir: Spec }>((tie) => ({
  dir: fc.dictionary(
    nameArb,
    fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.record({ size: fc.nat(70) }), fc.record({ link: nameArb }), tie('dir')),
    { maxKeys: 5 },
  ),
})).dir;

function materialize(dir: string, spec: Spec): void {
  for (const [name, v] of Object.entries(spec)) {
    const p = join(dir, name);
    if ('size' in v && typeof v.size === 'number') writeFileSync(p, Buffer.alloc(v.size, name.length));
    else if ('link' in v && typeof v.link === 'string') symlinkSync(v.link, p);
    else {
      mkdirSync(p);
      materialize(p, v as Spec);
    }
  }
}

test('property: random trees are byte-identical to GNU cpio', async () => {
  await fc.assert(
    fc.asyncProperty(specArb, async (spec) => {
      const dir = fresh('prop');
      materialize(dir, spec);
      await assertSameAsGnuCpio(dir);
    }),
    { numRuns: 25 },
  );
});

test('same tree, same bytes; mtime is stamped on every entry', async () => {
  const src = fresh('src');
  buildFixture(src);
  const a = await ours(treeFromDisk(src), 1);
  const b = await ours(treeFromDisk(src), 1);
  assert.ok(a.equals(b));
  assert.ok(!a.equals(await ours(treeFromDisk(src), 2)));
});

test('bad input: files of 4 GiB, lying data sources and bad mtimes fail before or where they are met', async () => {
  const huge: DataSource = {
    size: 2 ** 32,
    async *stream() {
      throw new Error('must not be read');
    },
  };
  const root = newDir();
  root.entries.set('ok', { kind: 'file', mode: 0o444, data: bytesSource(new Uint8Array(3)) });
  root.entries.set('huge', { kind: 'file', mode: 0o444, data: huge });
  const it = cpioStream(root, { mtime: 0 });
  await assert.rejects(it.next(), (e: Error) => e instanceof CpioError && /file "huge" is 4294967296 bytes; newc cpio holds files below 4 GiB only/.test(e.message));
  assert.throws(() => cpioSize(root), /huge/);

  const liar = newDir();
  liar.entries.set('short', { kind: 'file', mode: 0o444, data: { size: 10, stream: bytesSource(new Uint8Array(4)).stream } });
  await assert.rejects(ours(liar), /file "short": its data source yielded 4 bytes, but its size is 10/);
  await assert.rejects(ours(newDir(), -1), /mtime -1 is not a whole number/);
  await assert.rejects(ours(newDir(), 2 ** 32), /mtime 4294967296/);
});
