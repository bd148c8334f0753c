import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeFromDisk } from '../node/fs-tree.ts';
import { isoSize } from '../core/iso9660/iso-writer.ts';
import { describeTree, extractWithBsdtar, extractWithXorriso, run, writeIso } from './boot/iso-tools.ts';

let tmp: string;
let src: string;
const long = (c: string, n: number) => c.repeat(n);

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'iso-rr-'));
  src = join(tmp, 'src');
  const f = (p: string, data: string | Buffer, mode = 0o644) => {
    writeFileSync(join(src, p), data);
    chmodSync(join(src, p), mode);
  };
  mkdirSync(join(src, 'a'), { recursive: true });
  f(long('n', 200), 'a 200-byte name');
  f('héllo wörld ☃ 𝄞.txt', 'unicode');
  writeFileSync(Buffer.from(`${src}/bad\xff\xfename`, 'latin1'), 'not utf-8');
  let deep = 'deep';
  for (let i = 0; i < 20; i++) deep += `/level-${i}.d`;
  mkdirSync(join(src, deep), { recursive: true });
  f(`${deep}/bottom.txt`, 'twenty levels down');
  f('empty', '');
  mkdirSync(join(src, 'emptydir'));
  for (const m of [0o644, 0o755, 0o444, 0o555]) f(`mode${m.toString(8)}`, `mode ${m.toString(8)}\n`, m);
  f('a/readme.txt', 'lower');
  f('a/README.TXT', 'upper');
  f('a/readme.txt~', 'tilde');
  f('a/Readme.Txt', 'mixed');
  symlinkSync('../x/../y/./z', join(src, 'a/rel'));
  symlinkSync('/nix/store/abc-foo/bin/foo', join(src, 'a/abs'));
  symlinkSync('a', join(src, 'todir'));
  symlinkSync('/', join(src, 'toroot'));
  symlinkSync(Array.from({ length: 6 }, (_, i) => long(String(i), 60)).join('/') + '/../' + long('z', 255), join(src, 'longlink'));
  mkdirSync(join(src, 'many'));
  for (let i = 0; i < 3000; i++) f(`many/file-with-a-longish-name-${i}.data`, `#${i}`);
  f('big.bin', Buffer.alloc(300_000, 7));
  f('a/Readme.Txt', 'mixed');
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('xorriso and bsdtar both extract exactly the source tree, with the -r modes', async () => {
  const iso = join(tmp, 'rr.iso');
  const root = treeFromDisk(src);
  await writeIso(root, { volumeID: 'NIXOS_TEST' }, iso);
  assert.equal(readFileSync(iso).length, isoSize(root, { volumeID: 'NIXOS_TEST' }));
  const expected = describeTree(src, true);
  extractWithXorriso(iso, join(tmp, 'x'));
  assert.deepEqual(describeTree(join(tmp, 'x'), false), expected);
  extractWithBsdtar(iso, join(tmp, 'b'));
  assert.deepEqual(describeTree(join(tmp, 'b'), false), expected);
});

test('isoinfo sees the volume, Rock Ridge and Joliet; Joliet names are the originals, without symlinks', async () => {
  const iso = join(tmp, 'info.iso');
  await writeIso(treeFromDisk(src), { volumeID: 'nixos-24.05-x86_64', publisher: 'me', sourceDateEpoch: 1700000000 }, iso);
  const d = run('isoinfo', ['-d', '-i', iso]);
  assert.match(d, /Volume id: nixos-24\.05-x86_64\n/);
  assert.match(d, /Publisher id: ME\n/);
  assert.match(d, /Application id: NIXOS\n/);
  assert.match(d, /Joliet with UCS level 3 found/);
  assert.match(d, /Rock Ridge signatures version 1 found/);
  const j = run('isoinfo', ['-J', '-l', '-i', iso]);
  assert.match(j, /Directory listing of \/deep\/level-0\.d\/level-1\.d\//);
  // isoinfo knows no UTF-8 output; libarchive reading Joliet only does.
  const names = Buffer.from(run('bsdtar', ['--options', 'iso9660:!rockridge', '-tf', iso]), 'latin1').toString('utf8');
  assert.match(names, /^héllo wörld ☃ 𝄞\.txt$/m);
  assert.match(names, /^bad__name$/m);
  assert.match(j, / file-with-a-longish-name-2999\.data/);
  assert.match(j, / readme\.txt~/);
  assert.doesNotMatch(j, / todir|longlink/);
  // 64 UTF-16 units at most.
  assert.match(j, new RegExp(` ${long('n', 64)}\\s*$`, 'm'));
  const r = run('isoinfo', ['-R', '-l', '-i', iso]);
  assert.match(r, /Nov 14 2023/);
  assert.match(r, /-r--r--r--\s+1\s+0\s+0\s+0 Nov 14 2023 \[\s*\d+ 00\]\s+empty/);
});

test('same input, same bytes', async () => {
  const a = join(tmp, 'a.iso');
  const b = join(tmp, 'b.iso');
  await writeIso(treeFromDisk(src), { volumeID: 'SAME' }, a);
  await writeIso(treeFromDisk(src), { volumeID: 'SAME' }, b);
  assert.ok(readFileSync(a).equals(readFileSync(b)));
});

test('files over the extent limit are split into several extents that the readers join', async () => {
  const iso = join(tmp, 'multi.iso');
  const root = treeFromDisk(src);
  await writeIso(root, { volumeID: 'MULTI', maxExtentSize: 64 * 2048 }, iso);
  const listing = run('isoinfo', ['-l', '-i', iso]);
  assert.equal(listing.match(/BIG\.BIN;1/g)?.length, 3, listing.slice(0, 2000));
  extractWithXorriso(iso, join(tmp, 'mx'));
  extractWithBsdtar(iso, join(tmp, 'mb'));
  assert.ok(readFileSync(join(tmp, 'mx/big.bin')).equals(readFileSync(join(src, 'big.bin'))));
  assert.ok(readFileSync(join(tmp, 'mb/big.bin')).equals(readFileSync(join(src, 'big.bin'))));
});
