import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addPath, newDir } from '../core/image/tree.ts';
import { bytesSource } from '../core/io/data-source.ts';
import { isoSize, isoStream, IsoWriteError } from '../core/iso9660/iso-writer.ts';
import { IsoOptionsError } from '../core/iso9660/iso-options.ts';
import { IsoNameError, uniqueNames } from '../core/iso9660/names.ts';

const tree = () => {
  const root = newDir();
  addPath(root, 'isolinux/isolinux.bin', { kind: 'file', mode: 0o444, data: bytesSource(new Uint8Array(2048)) });
  addPath(root, 'link', { kind: 'symlink', target: 'isolinux' });
  return root;
};

test('bad options fail with typed errors that name the problem', () => {
  const cases: [object, RegExp][] = [
    [{ volumeID: 'x'.repeat(33) }, /volume ID "x{33}" is 33 characters long; at most 32 fit/],
    [{ volumeID: '' }, /volume ID is empty/],
    [{ volumeID: 'nixös' }, /volume ID "nixös" has characters outside printable ASCII/],
    [{ volumeID: 'V', bootImage: '/isolinux/missing.bin' }, /boot image \/isolinux\/missing\.bin is not in the image tree/],
    [{ volumeID: 'V', bootImage: '/isolinux' }, /boot image \/isolinux is a dir, not a file/],
    [{ volumeID: 'V', efiBootImage: '/link' }, /EFI boot image \/link is a symlink, not a file/],
    [{ volumeID: 'V', isohybridMbr: new Uint8Array(432) }, /isohybrid MBR given without a BIOS boot image/],
    [{ volumeID: 'V', maxExtentSize: 1000 }, /maxExtentSize 1000 is not a positive multiple of 2048/],
  ];
  for (const [opts, message] of cases) assert.throws(() => isoSize(tree(), opts as never), (e: Error) => e instanceof IsoOptionsError && message.test(e.message));
});

test('a file whose source is shorter than its size fails naming the file', async () => {
  const root = newDir();
  addPath(root, 'short', { kind: 'file', mode: 0o444, data: { size: 5000, stream: bytesSource(new Uint8Array(10)).stream } });
  await assert.rejects(async () => {
    for await (const _ of isoStream(root, { volumeID: 'V' }));
  }, (e: Error) => e instanceof IsoWriteError && /\/short has 10 bytes, expected 5000/.test(e.message));
});

test('names that cannot be told apart within the length limit are refused', () => {
  // A 1-character limit leaves no room for a number once two names collide.
  const parts = [{ base: 'A', ext: null, suffix: '', max: 0 }, { base: 'A', ext: null, suffix: '', max: 0 }];
  assert.throws(() => uniqueNames(parts, 'directory /x'), (e: Error) => e instanceof IsoNameError && /directory \/x: cannot give the 2 entries named like "A" distinct names/.test(e.message));
  // Real names always fit: 1000 names that collide after shortening get distinct ISO names.
  const many = Array.from({ length: 1000 }, () => ({ base: 'SAME_LONG_PREFIX_OF_THIRTY_ONE', ext: null, suffix: '', max: 31 }));
  assert.equal(new Set(uniqueNames(many, 'd')).size, 1000);
});
