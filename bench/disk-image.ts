// End-to-end raw-efi disk image benchmark (`node --import tsx bench/disk-image.ts`): the NixOS-like
// fixture's disk toplevel (test/fixtures/nixos). Ours: `nix-imager build` with "format": "disk"
// from a warm NAR cache (a first build fills it). Native: the steps make-disk-image.nix runs outside
// its VM, on the same trees (taken back out of our image with debugfs rdump and mcopy): truncate,
// parted + sgdisk, `mkfs.ext4 -d` at the root partition's offset, `mkfs.fat -F 32` for the ESP,
// mcopy of the ESP files into an ESP image, dd'd into place. Prints times, peak RSS and ratios.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../test/helpers/cli.ts';
import { nixosFixture, toplevelConfig } from '../test/helpers/nixos-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bench-disk-image-'));

function timed(script: string): { seconds: number; maxRssKiB: number } {
  const report = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', report, 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  const [seconds, rss] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, maxRssKiB: rss! };
}

const sh = (script: string) => timed(script);

try {
  const fx = await nixosFixture();
  const cfg = join(tmp, 'disk.json');
  writeFileSync(cfg, JSON.stringify(toplevelConfig(fx, fx.paths.disk, 'disk')));
  const ours = join(tmp, 'ours.img');
  const build = `node ${BIN} build ${cfg} --output ${ours} --cache-dir ${join(tmp, 'cache')} --quiet`;
  sh(build);
  rmSync(ours);
  const our = timed(build);
  const size = statSync(ours).size;

  // The same trees, out of our image.
  const parts = (JSON.parse(spawnSync('sfdisk', ['--json', ours], { encoding: 'utf8' }).stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions;
  const [esp, root] = parts as [{ start: number; size: number }, { start: number; size: number }];
  const rootDir = join(tmp, 'root');
  const espDir = join(tmp, 'esp');
  mkdirSync(rootDir);
  mkdirSync(espDir);
  sh(`dd if=${ours} of=${tmp}/root.fs bs=512 skip=${root.start} count=${root.size} conv=sparse status=none && debugfs -R 'rdump / ${rootDir}' ${tmp}/root.fs 2>/dev/null`);
  sh(`dd if=${ours} of=${tmp}/esp.fs bs=512 skip=${esp.start} count=${esp.size} conv=sparse status=none && mcopy -s -n -i ${tmp}/esp.fs '::/*' ${espDir}/`);

  const native = join(tmp, 'native.img');
  const nat = timed(
    [
      `truncate -s ${size} ${native}`,
      `parted --script ${native} -- mklabel gpt mkpart ESP fat32 8MiB 256M set 1 boot on mkpart primary ext4 256M -1`,
      `sgdisk --disk-guid=97FD5997-D90B-4AA3-8D16-C1723AEA73C --partition-guid=1:1C06F03B-704E-4657-B9CD-681A087A2FDC --partition-guid=2:F222513B-DED1-49FA-B591-20CE86A2FE7F ${native} >/dev/null`,
      `mkfs.ext4 -q -b 4096 -F -L nixos -U F222513B-DED1-49FA-B591-20CE86A2FE7F -d ${rootDir} -E offset=${root.start * 512} ${native} ${(root.size * 512) / 1024}K`,
      `mkfs.fat -F 32 -n ESP -h ${esp.start} -C ${tmp}/native-esp.fs ${(esp.size * 512) / 1024} >/dev/null`,
      `mcopy -s -i ${tmp}/native-esp.fs ${espDir}/* ::`,
      `dd if=${tmp}/native-esp.fs of=${native} bs=1M seek=${(esp.start * 512) / 2 ** 20} conv=notrunc,sparse status=none`,
    ].join(' && '),
  );
  const row = {
    bench: 'disk-image',
    diskBytes: size,
    oursSeconds: our.seconds,
    oursMaxRssMiB: Math.round(our.maxRssKiB / 1024),
    nativeSeconds: nat.seconds,
    nativeMaxRssMiB: Math.round(nat.maxRssKiB / 1024),
    ratio: +(our.seconds / nat.seconds).toFixed(2),
  };
  console.log(`raw-efi disk of ${(size / 2 ** 20).toFixed(0)} MiB: ours ${our.seconds} s (peak RSS ${row.oursMaxRssMiB} MiB, warm NAR cache), native ${nat.seconds} s (${row.nativeMaxRssMiB} MiB) → ${row.ratio}×`);
  console.log(`BENCH-JSON ${JSON.stringify(row)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
