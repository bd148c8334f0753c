import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from './helpers/cli.ts';
import { parseConfig } from '../core/pipeline/config.ts';

const TOP = '/nix/store/w8q0v3xhdlqr73ywrclc6b38dgmqlk9a-nixos-system-disk-24.05';
const disk = (extra: Record<string, unknown>) => parseConfig({ format: 'disk', toplevel: TOP, ...extra }).disk!;

test('sizes read as make-disk-image reads them: numfmt --from=iec for space, parted for where the ESP ends', async () => {
  for (const v of ['512M', '1G', '300K', '7']) {
    assert.equal(disk({ additionalSpace: v }).additionalSpace, Number(await sh('numfmt', ['--from=iec', v])), v);
  }
  const d = disk({});
  assert.equal(d.additionalSpace, Number(await sh('numfmt', ['--from=iec', '512M'])));
  assert.equal(d.bootReserve, Number(await sh('numfmt', ['--from=iec', '256M'])));
  // parted reads "256M" as 256 MB (disk-gpt.test.ts checks the layout against parted itself).
  assert.equal(d.bootEnd, 256_000_000);
  assert.equal(disk({ bootSize: '300MiB' }).bootEnd, 300 * 2 ** 20);
  assert.equal(disk({ bootSize: 268435456 }).bootEnd, 268435456);
  assert.equal(d.diskFormat, 'raw');
  assert.equal(d.diskSize, 'auto');
  assert.equal(parseConfig({ format: 'disk', toplevel: TOP, diskFormat: 'vdi' }).fileName, 'nixos.vdi');
  assert.equal(parseConfig({ format: 'disk', toplevel: TOP, compression: 'zstd' }).fileName, 'nixos.img.zst');
});

test('disk options are refused where they do not apply or make no sense, naming the field', () => {
  assert.throws(() => parseConfig({ format: 'disk' }), /config: toplevel: is required for "format": "disk"/);
  assert.throws(() => parseConfig({ format: 'tarball', storeContents: [{ object: TOP }], diskSize: 2 ** 30 }), /config: diskSize: only applies to "format": "disk"/);
  assert.throws(() => disk({ diskSize: 1000 }), /config: diskSize: 1000 is not a whole number of 512-byte sectors/);
  assert.throws(() => disk({ diskSize: -5 }), /config: diskSize: must be a positive whole number of bytes/);
  assert.throws(() => disk({ additionalSpace: '5 GB' }), /config: additionalSpace: "5 GB" is not a size/);
  assert.throws(() => disk({ diskFormat: 'vpc' }), /config: diskFormat: must be one of "raw", "qcow2", "vhd", "vhd-dynamic", "vmdk", "vdi"/);
});
