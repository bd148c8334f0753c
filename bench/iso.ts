// ISO benchmark (by hand: `node --import tsx bench/iso.ts [MB]`, default 300 MB).
// Input: the first MB megabytes of /usr/lib/x86_64-linux-gnu, unpacked once under test-artifacts/.
// Ours (isoStream → file, in its own process) vs `xorriso -as mkisofs -R -J -o`, same tree, same run:
// wall time and peak RSS (GNU time), with ratios. Then ours on half the input, to show memory does not grow with size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = import.meta.filename;

if (process.argv[2] === '--write') {
  const { treeFromDisk } = await import('../node/fs-tree.ts');
  const { writeIso } = await import('../test/boot/iso-tools.ts');
  await writeIso(treeFromDisk(process.argv[3]!), { volumeID: 'BENCH' }, process.argv[4]!);
  process.exit(0);
}

const MB = 1e6;
const size = Number(process.argv[2] ?? 300);

function input(mb: number): string {
  const dir = join('test-artifacts', `bench-iso-usrlib-${mb}MB`);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    // A cut tar stream: tar reports the truncated last member, everything before it is there.
    spawnSync('sh', ['-c', `tar -C /usr/lib -cf - x86_64-linux-gnu | head -c ${mb * MB} | tar -xf - -C ${dir} 2>/dev/null`]);
  }
  return dir;
}

function timed(cmd: string[]): { seconds: number; rssMB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, rssMB: kb! / 1024 };
}

const tmp = mkdtempSync(join(tmpdir(), 'bench-iso-'));
try {
  const src = input(size);
  const ours = join(tmp, 'ours.iso');
  const theirs = join(tmp, 'xorriso.iso');
  const o = timed([process.execPath, '--import', 'tsx', here, '--write', src, ours]);
  const x = timed(['xorriso', '-as', 'mkisofs', '-R', '-J', '-quiet', '-o', theirs, src]);
  console.log(`tree ${size} MB: ours ${(statSync(ours).size / MB).toFixed(0)} MB, xorriso ${(statSync(theirs).size / MB).toFixed(0)} MB`);
  console.log(`ours     ${o.seconds.toFixed(2)} s  ${o.rssMB.toFixed(0)} MB RSS`);
  console.log(`xorriso  ${x.seconds.toFixed(2)} s  ${x.rssMB.toFixed(0)} MB RSS`);
  console.log(`ratio time ${(o.seconds / x.seconds).toFixed(2)}x, RSS ${(o.rssMB / x.rssMB).toFixed(2)}x`);
  const half = timed([process.execPath, '--import', 'tsx', here, '--write', input(size / 2), join(tmp, 'half.iso')]);
  console.log(`ours on ${size / 2} MB: ${half.seconds.toFixed(2)} s  ${half.rssMB.toFixed(0)} MB RSS (memory vs full: ${(o.rssMB / half.rssMB).toFixed(2)}x)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
