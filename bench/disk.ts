// Disk container benchmark (`node --import tsx bench/disk.ts [DATA_MB [FORMAT]]`, default 256, all): a 4 GiB
// GPT disk in make-disk-image's efi layout whose partitions hold DATA_MB of data in runs at odd
// offsets (half random, half text), written as a sparse raw file in /dev/shm. Each format is then
// made once by our writer (reading the raw file's allocated runs) and once by
// `qemu-img convert -f raw -O <fmt>` from the same file; both outputs must compare identical to
// the raw image (`qemu-img compare`). Prints time ratios and output sizes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { efiDisk, efiGeometry } from '../core/disk/efi-layout.ts';
import type { ByteRange, SparseChunk, SparseSource } from '../core/io/sparse.ts';
import type { ContainerImage } from '../core/io/sparse-blocks.ts';
import { qcow2Image } from '../core/qcow2/qcow2-writer.ts';
import { vdiImage } from '../core/vdi/vdi-writer.ts';
import { vhdDynamicImage, vhdFixedImage } from '../core/vhd/vhd-writer.ts';
import { vmdkImage } from '../core/vmdk/vmdk-writer.ts';
import { writeSparseChunks } from '../node/sparse-file.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { randomRuns } from '../test/helpers/sparse.ts';
import { rng } from '../test/helpers/synthetic-cache.ts';

const MIB = 1 << 20;
const dataMB = Number(process.argv[2] ?? 256);
const tmp = mkdtempSync('/dev/shm/bench-disk-');
const uuid = new Uint8Array(16).fill(7);
const pool = createNodeCodecPool();

const ONLY = process.argv[3];
const ALL_FORMATS: { name: string; qemu: string[]; fmt: string; write: (s: SparseSource) => ContainerImage }[] = [
  { name: 'qcow2', qemu: ['-O', 'qcow2'], fmt: 'qcow2', write: qcow2Image },
  { name: 'vhd', qemu: ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], fmt: 'vpc', write: (s) => vhdFixedImage(s, { uniqueId: uuid }) },
  { name: 'vhd-dynamic', qemu: ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on'], fmt: 'vpc', write: (s) => vhdDynamicImage(s, { uniqueId: uuid }) },
  { name: 'vmdk', qemu: ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], fmt: 'vmdk', write: (s) => vmdkImage(s, { cid: 1, fileName: 'nixos.vmdk' }) },
  {
    name: 'vmdk (codec pool)',
    qemu: ['-O', 'vmdk', '-o', 'subformat=streamOptimized'],
    fmt: 'vmdk',
    write: (s) => vmdkImage(s, { cid: 1, fileName: 'nixos.vmdk', compress: (g) => pool.compress({ codec: 'zlib', level: 6 }, g.slice()), inFlight: 2 * pool.size }),
  },
  {
    name: 'vmdk (node:zlib)',
    qemu: ['-O', 'vmdk', '-o', 'subformat=streamOptimized'],
    fmt: 'vmdk',
    write: (s) => vmdkImage(s, { cid: 1, fileName: 'nixos.vmdk', compress: async (g) => deflateSync(g, { level: 6 }) }),
  },
  { name: 'vdi', qemu: ['-O', 'vdi'], fmt: 'vdi', write: (s) => vdiImage(s, { uuid }) },
];

const FORMATS = ALL_FORMATS.filter((f) => !ONLY || f.name.startsWith(ONLY));

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Partition content with DATA runs: odd offsets, half random bytes, half repeated text. */
function content(size: number, runs: readonly ByteRange[], seed: number): SparseSource {
  return {
    size,
    allocated: () => runs,
    async *chunks(): AsyncGenerator<SparseChunk> {
      const r = rng(seed);
      const line = new TextEncoder().encode('/nix/store/0123456789abcdfghijklmnpqrsvwxyz-some-package-1.2.3/lib/libfoo.so.1\n');
      const text = Uint8Array.from({ length: MIB }, (_, i) => line[i % line.length]!);
      let pos = 0;
      for (const run of runs) {
        if (run.offset > pos) yield { zeros: run.offset - pos };
        for (let at = 0; at < run.length; at += MIB) {
          const n = Math.min(MIB, run.length - at);
          yield r() < 0.5 ? Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) : text.slice(0, n);
        }
        pos = run.offset + run.length;
      }
      if (size > pos) yield { zeros: size - pos };
    },
  };
}

/** The raw file read back over the disk's allocated ranges: what qemu-img reads too. */
function rawFile(path: string, disk: SparseSource): SparseSource {
  return {
    size: disk.size,
    allocated: () => disk.allocated(),
    async *chunks() {
      const f = await open(path);
      try {
        let pos = 0;
        for (const r of disk.allocated()) {
          if (r.offset > pos) yield { zeros: r.offset - pos };
          for (let at = 0; at < r.length; at += 4 * MIB) {
            const b = new Uint8Array(Math.min(4 * MIB, r.length - at));
            await f.read(b, 0, b.length, r.offset + at);
            yield b;
          }
          pos = r.offset + r.length;
        }
        if (disk.size > pos) yield { zeros: disk.size - pos };
      } finally {
        await f.close();
      }
    },
  };
}

async function seconds(run: () => unknown): Promise<number> {
  const t = performance.now();
  await run();
  return (performance.now() - t) / 1000;
}

try {
  const g = efiGeometry(4096 * MIB);
  const r = rng(9);
  const espRuns = randomRuns(r, g.esp.size, 20, Math.ceil((dataMB * MIB) / 20 / 4));
  const rootRuns = randomRuns(r, g.root.size, 60, Math.ceil((dataMB * MIB * 2) / 60));
  const disk = efiDisk(g, { esp: content(g.esp.size, espRuns, 1), root: content(g.root.size, rootRuns, 2) });
  const raw = join(tmp, 'disk.raw');
  await writeSparseChunks(raw, disk.chunks());
  const allocatedMB = disk.allocated().reduce((n, x) => n + x.length, 0) / MIB;
  console.log(`input: 4 GiB efi disk, ${allocatedMB.toFixed(0)} MiB allocated`);
  const rows = [];
  for (const f of FORMATS) {
    const ours = join(tmp, `ours.${f.fmt}`);
    const theirs = join(tmp, `qemu.${f.fmt}`);
    const oursS = await seconds(() => writeSparseChunks(ours, f.write(rawFile(raw, disk)).chunks()));
    const qemuS = await seconds(() => sh('qemu-img', ['convert', '-f', 'raw', ...f.qemu, raw, theirs]));
    const cmp = spawnSync('qemu-img', ['compare', '-f', 'raw', raw, '-F', f.fmt, ours], { encoding: 'utf8' });
    const identical = cmp.status === 0;
    if (!identical) console.log(cmp.stdout, cmp.stderr);
    const row = {
      format: f.name,
      oursSeconds: +oursS.toFixed(3),
      qemuImgSeconds: +qemuS.toFixed(3),
      ratio: +(oursS / qemuS).toFixed(2),
      oursBytes: statSync(ours).size,
      qemuImgBytes: statSync(theirs).size,
      sizeRatio: +(statSync(ours).size / statSync(theirs).size).toFixed(3),
      identical,
    };
    rows.push(row);
    console.log(`${f.name}: ours ${row.oursSeconds} s, qemu-img ${row.qemuImgSeconds} s (→ ${row.ratio}×); ${(row.oursBytes / MIB).toFixed(1)} MiB vs ${(row.qemuImgBytes / MIB).toFixed(1)} MiB; ${identical ? 'identical to raw' : 'DIFFERS from raw'}`);
    if (!identical) process.exitCode = 1;
    rmSync(ours);
    rmSync(theirs);
  }
  console.log(`BENCH-JSON ${JSON.stringify({ bench: 'disk', diskMiB: 4096, allocatedMiB: Math.round(allocatedMB), rows })}`);
} finally {
  await pool.close();
  rmSync(tmp, { recursive: true, force: true });
}
