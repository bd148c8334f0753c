// Live ISO end to end (`node --import tsx bench/live-iso.ts`, also run by `npm run bench`), on the
// NixOS-like fixture's live toplevel (test/fixtures/nixos/).
// Ours: `nix-imager build` of {"format":"iso","toplevel":…} from a warm NAR cache (every NAR
// already verified there), best of 3. Reference, on the same closure unpacked by real Nix and with
// the boot menus ours wrote: make-squashfs.nix's mksquashfs (zstd 19, 1 MiB), iso-image.nix's
// efi.img (truncate + mkfs.vfat --invariant + mmd/mcopy) and make-iso9660-image.sh's xorriso.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../test/helpers/cli.ts';
import { NIX_ENV } from '../test/helpers/nix.ts';
import { nixosFixture, toplevelConfig } from '../test/helpers/nixos-fixture.ts';

function sh(script: string): void {
  const r = spawnSync('bash', ['-euc', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
}

function seconds(script: string): number {
  const t = performance.now();
  sh(script);
  return (performance.now() - t) / 1000;
}

const best = (script: string) => Math.min(seconds(script), seconds(script), seconds(script));

const fx = await nixosFixture();
const tmp = mkdtempSync(join(tmpdir(), 'bench-live-iso-'));
try {
  const cfg = join(tmp, 'live.json');
  writeFileSync(cfg, JSON.stringify(toplevelConfig(fx, fx.paths.live, 'iso')));
  const build = `node ${BIN} build ${cfg} --output ${tmp}/ours.iso --cache-dir ${tmp}/nar-cache -q`;
  sh(build); // warms the NAR cache
  const ours = best(`rm -f ${tmp}/ours.iso && ${build}`);

  // The reference's inputs: the closure from the chroot store, and the generated files from our ISO.
  const x = join(tmp, 'x');
  sh(`xorriso -osirrox on -indev ${tmp}/ours.iso -extract / ${x} 2>/dev/null && chmod -R u+w ${x}`);
  sh(`unsquashfs -q -d ${tmp}/sq ${x}/nix-store.squashfs nix-path-registration >/dev/null`);
  const closure = spawnSync('nix-store', ['--store', fx.storeRoot, '-qR', fx.paths.live], { encoding: 'utf8', env: { ...process.env, ...NIX_ENV } }).stdout.trim().split('\n');
  const paths = closure.map((p) => `${fx.storeRoot}${p}`).join(' ');
  sh(`mkdir -p ${tmp}/efi && mcopy -s -i ${x}/boot/efi.img ::/EFI ::/loader ${tmp}/efi/`);
  const efiBytes = statSync(`${x}/boot/efi.img`).size;
  const reference = best(`
    cd ${tmp} && rm -rf ref ref.iso && mkdir -p ref/boot && cp -r ${x}/isolinux ${x}/version.txt ref/ && cp ${x}/boot/bzImage ${x}/boot/initrd ref/boot/
    mksquashfs sq/nix-path-registration ${paths} ref/nix-store.squashfs -quiet -no-hardlinks -keep-as-directory -all-root -b 1048576 -comp zstd -Xcompression-level 19 >/dev/null
    truncate -s ${efiBytes} ref/boot/efi.img && mkfs.vfat --invariant -i 12345678 -n EFIBOOT ref/boot/efi.img >/dev/null
    (cd efi && for d in $(find EFI loader -type d | sort); do mmd -i ../ref/boot/efi.img ::/$d; done && for f in $(find EFI loader -type f | sort); do mcopy -pm -i ../ref/boot/efi.img $f ::/$f; done)
    xorriso -as mkisofs -quiet -iso-level 3 -volid ${fx.liveLabel} -appid nixos -publisher nixos -graft-points -full-iso9660-filenames -joliet -r \
      -eltorito-boot isolinux/isolinux.bin -eltorito-catalog .boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
      -isohybrid-mbr ${x}/isolinux/isohdpfx.bin -eltorito-alt-boot -e boot/efi.img -no-emul-boot -isohybrid-gpt-basdat -o ref.iso ref 2>/dev/null`);
  const row = {
    bench: 'live-iso',
    closurePaths: closure.length,
    isoBytes: statSync(`${tmp}/ours.iso`).size,
    referenceIsoBytes: statSync(`${tmp}/ref.iso`).size,
    oursSeconds: +ours.toFixed(2),
    referenceSeconds: +reference.toFixed(2),
    ratioToReference: +(ours / reference).toFixed(3),
  };
  console.log(
    `live ISO of ${row.closurePaths} store paths: ours ${ours.toFixed(2)} s (warm NAR cache), mksquashfs + mkfs.vfat/mcopy + xorriso ${reference.toFixed(2)} s → ${row.ratioToReference}×; ` +
      `${(row.isoBytes / 1e6).toFixed(1)} MB vs ${(row.referenceIsoBytes / 1e6).toFixed(1)} MB`,
  );
  console.log(`BENCH-JSON ${JSON.stringify(row)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
