// NAR reader benchmark (by hand: `node --import tsx bench/nar-reader.ts`).
// Inputs: `nix-store --dump` of /usr/lib/x86_64-linux-gnu and of /usr/share (many small files; cached in test-artifacts/)
// and a synthetic NAR of a few big files. Ours: readNar over 1 MiB chunks held in memory, alone and
// with the node:crypto sha256 tap. Native: `nix nar ls -R` (Nix's own parser) and `sha256sum`. Prints MB/s and ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNar } from '../core/nix/nar-reader.ts';
import { nodeSha256 } from '../node/platform.ts';
import { narHashingTap } from '../core/nix/nar-reader.ts';
import { writeNar, type NarNode } from '../test/helpers/nar-builder.ts';
import { NIX_ENV } from '../test/helpers/nix.ts';

const env = { ...process.env, ...NIX_ENV };
const MB = 1e6;

function dumpNar(dir: string, name: string): string {
  const file = join('test-artifacts', `bench-${name}.nar`);
  if (!existsSync(file)) {
    mkdirSync('test-artifacts', { recursive: true });
    const r = spawnSync('sh', ['-c', `nix-store --dump ${dir} > ${file}.part && mv ${file}.part ${file}`], { env });
    if (r.status !== 0) throw new Error(`could not make ${file}: ${r.stderr}`);
  }
  return file;
}

function bigFilesNar(): string {
  const file = join('test-artifacts', 'bench-bigfiles.nar');
  if (!existsSync(file)) {
    mkdirSync('test-artifacts', { recursive: true });
    const big = new Uint8Array(256 * 1024 * 1024).fill(0x5a);
    const entries: [string, NarNode][] = ['a', 'b', 'c', 'd'].map((n) => [n, { type: 'regular', contents: big }]);
    writeFileSync(file, writeNar({ type: 'directory', entries }));
  }
  return file;
}

async function* chunks(bytes: Uint8Array, size = 1 << 20): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function best(fn: () => Promise<void> | void, runs = 3): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
}

function native(cmd: string, args: string[]): () => void {
  return () => {
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  };
}

for (const file of [dumpNar('/usr/lib/x86_64-linux-gnu', 'usrlib'), dumpNar('/usr/share', 'usrshare'), bigFilesNar()]) {
  const nar = new Uint8Array(readFileSync(file));
  let entries = 0;
  const parse = await best(async () => {
    entries = 0;
    for await (const _ of readNar(chunks(nar))) entries++;
  });
  const parseHash = await best(async () => {
    const tap = narHashingTap(chunks(nar), nodeSha256);
    for await (const _ of readNar(tap.chunks)) void _;
    tap.result();
  });
  const nixLs = await best(native('nix', ['nar', 'ls', '-R', file, '/']));
  const sha = await best(native('sha256sum', [file]));
  const rate = (s: number) => `${((nar.length / MB) / s).toFixed(0)} MB/s`;
  console.log(`${file}: ${(nar.length / MB).toFixed(0)} MB, ${entries} entries`);
  console.log(`  readNar             ${parse.toFixed(3)} s  ${rate(parse)}`);
  console.log(`  readNar + sha256    ${parseHash.toFixed(3)} s  ${rate(parseHash)}`);
  console.log(`  nix nar ls -R       ${nixLs.toFixed(3)} s  ${rate(nixLs)}  (ours ${(nixLs / parse).toFixed(1)}x as fast)`);
  console.log(`  sha256sum           ${sha.toFixed(3)} s  ${rate(sha)}  (ours with hashing at ${(sha / parseHash).toFixed(2)}x its speed)`);
}
