// xz benchmark (by hand: `node --import tsx bench/xz.ts [MB]`, default 200 MB).
// Input: a tar of /usr/lib/x86_64-linux-gnu cut to MB megabytes (cached in test-artifacts/).
// Encoders at preset 6: ours with 1 worker and with all cores, native `xz -6 -T1` / `-T0`,
// and 7z-wasm (7-Zip in WebAssembly, the npm peer: `npm install --no-save 7z-wasm`; skipped if absent).
// Decoders: xz-embedded (npm xz-decompress), our liblzma, native `xz -dc`. Prints MB/s and ratios.
// Then zstd on the first 50 MB: ours vs `zstd --single-thread` at 19 and 3; decoding ours vs fzstd vs native.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { xzCompressor } from '../core/xz/xz-compressor.ts';
import { xzDecompressor } from '../core/xz/xz-decompressor.ts';
import { zstdCompressor, zstdDecompressor } from '../core/zstd/zstd.ts';
import { encodeXzBlock } from '../core/xz/xz-encode.ts';
import { defaultBlockSize } from '../core/xz/xz-compressor.ts';
import type { StreamCompressor } from '../core/codec/stream-compressor.ts';
import { createNodeCodecPool } from '../node/codec-pool.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';

const MB = 1e6;
const size = Number(process.argv[2] ?? 200) * MB;
const cores = availableParallelism();
const tmp = mkdtempSync(join(tmpdir(), 'bench-xz-'));

function benchInput(): string {
  const file = join('test-artifacts', `bench-usrlib-${size / MB}MB.tar`);
  if (!existsSync(file)) {
    mkdirSync('test-artifacts', { recursive: true });
    const r = spawnSync('sh', ['-c', `tar --sort=name -cf - -C /usr/lib x86_64-linux-gnu 2>/dev/null | head -c ${size} > ${file}.part && mv ${file}.part ${file}`]);
    if (r.status !== 0) throw new Error(`could not make ${file}: ${r.stderr}`);
  }
  return file;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t) / 1000, value };
}

async function pipe(codec: StreamCompressor, data: Uint8Array): Promise<number> {
  async function* chunks() {
    for (let at = 0; at < data.length; at += 1 << 20) yield data.subarray(at, at + (1 << 20));
  }
  let n = 0;
  for await (const c of codec(chunks())) n += c.length;
  return n;
}

/** CPU seconds of native children, read from bash's `times` after each native run. */
let nativeCpu = 0;
function native(cmd: string): number {
  const out = join(tmp, 'native.out');
  const r = spawnSync('bash', ['-c', `${cmd} > ${out} && times`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  const [user, sys] = r.stdout.trim().split('\n')[1]!.split(' ').map((t) => {
    const [m, s] = t.split('m');
    return Number(m) * 60 + parseFloat(s!);
  });
  nativeCpu = user! + sys!;
  return readFileSync(out).length;
}

interface Row {
  name: string;
  seconds: number;
  bytes: number;
  out?: number;
}
const rows: Row[] = [];
/** Wall-clock MB/s, and MB per CPU second (this process's threads, or the native child's), which load on a shared machine disturbs less. */
async function measure(name: string, bytes: number, fn: () => Promise<number> | number): Promise<void> {
  nativeCpu = 0;
  const cpu0 = process.cpuUsage();
  const { seconds, value } = await timed(fn);
  const own = process.cpuUsage(cpu0);
  const cpu = nativeCpu || (own.user + own.system) / 1e6;
  rows.push({ name, seconds, bytes, out: value });
  console.log(`${name.padEnd(34)} ${(bytes / MB / seconds).toFixed(2).padStart(7)} MB/s  ${seconds.toFixed(1).padStart(6)} s  ${(bytes / MB / cpu).toFixed(2).padStart(7)} MB/cpu-s  out ${value}`);
}
function rate(name: string): number {
  const r = rows.find((x) => x.name === name);
  return r ? r.bytes / r.seconds : NaN;
}

async function sevenZipEncoder(): Promise<((data: Uint8Array) => number) | undefined> {
  try {
    const { default: SevenZip } = await import('7z-wasm' as string);
    const sz = await SevenZip({ print: () => {}, printErr: () => {} });
    return (data: Uint8Array) => {
      sz.FS.writeFile('/in', data);
      sz.callMain(['a', '-txz', '-mx=6', '-mmt=1', '/out.xz', '/in']);
      const n = sz.FS.readFile('/out.xz').length;
      sz.FS.unlink('/in');
      sz.FS.unlink('/out.xz');
      return n;
    };
  } catch {
    return undefined;
  }
}

async function xzEmbeddedDecode(compressed: Uint8Array): Promise<number> {
  const { XzReadableStream } = await import('xz-decompress');
  const reader = new XzReadableStream(new Blob([compressed as Uint8Array<ArrayBuffer>]).stream()).getReader();
  let n = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.length;
  return n;
}

/** Linear memory of one worker's wasm instance after encoding one full block at preset 6. */
async function workerMemory(data: Uint8Array): Promise<number> {
  const blockSize = defaultBlockSize(6);
  const w = await nodeCodecs.instance();
  encodeXzBlock(w, data.subarray(0, blockSize), { preset: 6, extreme: false, check: 'crc64' }, blockSize);
  return w.x.memory.buffer.byteLength;
}

try {
  const file = benchInput();
  const data = readFileSync(file);
  console.log(`input ${file}: ${(data.length / MB).toFixed(0)} MB, ${cores} cores, preset 6, block ${defaultBlockSize(6) / (1 << 20)} MiB\n`);

  await measure('ours, 1 worker (in-process)', data.length, () => pipe(xzCompressor({ preset: 6, codecs: nodeCodecs }), data));
  const pool = createNodeCodecPool(cores);
  try {
    await measure(`ours, ${cores} workers`, data.length, () => pipe(xzCompressor({ preset: 6, pool }), data));
  } finally {
    await pool.close();
  }
  await measure('native xz -6 -T1', data.length, () => native(`xz -6 -T1 -c ${file}`));
  await measure('native xz -6 -T0', data.length, () => native(`xz -6 -T0 -c ${file}`));
  const sevenZip = await sevenZipEncoder();
  if (sevenZip) await measure('7z-wasm -txz -mx=6 -mmt=1', data.length, () => sevenZip(data));
  else console.log('7z-wasm not installed: `npm install --no-save 7z-wasm` to compare');

  const compressed = spawnSync('xz', ['-6', '-T0', '-c', file], { maxBuffer: 1 << 30 }).stdout;
  writeFileSync(join(tmp, 'in.xz'), compressed);
  await measure('decode: xz-embedded (xz-decompress)', data.length, () => xzEmbeddedDecode(compressed));
  await measure('decode: ours (liblzma wasm)', data.length, () => pipe(xzDecompressor(nodeCodecs), compressed));
  await measure('decode: native xz -dc', data.length, () => native(`xz -dc ${join(tmp, 'in.xz')}`));

  const part = data.subarray(0, Math.min(data.length, 50 * MB));
  const partFile = join(tmp, 'part.bin');
  writeFileSync(partFile, part);
  for (const level of [19, 3]) {
    await measure(`zstd ${level}: ours`, part.length, () => pipe(zstdCompressor(level, { codecs: nodeCodecs }), part));
    await measure(`zstd ${level}: native --single-thread`, part.length, () => native(`zstd -q -${level} --single-thread -c < ${partFile}`));
  }
  const zst = spawnSync('zstd', ['-q', '-19', '-c', partFile], { maxBuffer: 1 << 30 }).stdout;
  writeFileSync(join(tmp, 'part.zst'), zst);
  await measure('zstd decode: fzstd', part.length, async () => {
    const { decompress } = await import('fzstd');
    return decompress(zst).length;
  });
  await measure('zstd decode: ours', part.length, () => pipe(zstdDecompressor(nodeCodecs), zst));
  await measure('zstd decode: native', part.length, () => native(`zstd -q -dc ${join(tmp, 'part.zst')}`));

  const memory = await workerMemory(data);
  console.log('\nratios (higher = ours faster):');
  console.log(`  ours 1 worker / native -T1:     ${(rate('ours, 1 worker (in-process)') / rate('native xz -6 -T1')).toFixed(2)}  (target ≥ 0.8)`);
  console.log(`  ours ${cores} workers / native -T0:     ${(rate(`ours, ${cores} workers`) / rate('native xz -6 -T0')).toFixed(2)}  (target ≥ 0.8)`);
  if (sevenZip) console.log(`  ours 1 worker / 7z-wasm:         ${(rate('ours, 1 worker (in-process)') / rate('7z-wasm -txz -mx=6 -mmt=1')).toFixed(2)}`);
  console.log(`  decode ours / xz-embedded:       ${(rate('decode: ours (liblzma wasm)') / rate('decode: xz-embedded (xz-decompress)')).toFixed(2)}`);
  console.log(`  decode ours / native:            ${(rate('decode: ours (liblzma wasm)') / rate('decode: native xz -dc')).toFixed(2)}`);
  for (const level of [19, 3]) console.log(`  zstd ${level} ours / native:           ${(rate(`zstd ${level}: ours`) / rate(`zstd ${level}: native --single-thread`)).toFixed(2)}`);
  console.log(`  zstd decode ours / fzstd:        ${(rate('zstd decode: ours') / rate('zstd decode: fzstd')).toFixed(2)}`);
  console.log(`  zstd decode ours / native:       ${(rate('zstd decode: ours') / rate('zstd decode: native')).toFixed(2)}`);
  const budget = 94 * 2 ** 20 + 16 * 2 ** 20;
  console.log(`\nper-worker wasm memory after a ${defaultBlockSize(6) / (1 << 20)} MiB block: ${(memory / 2 ** 20).toFixed(1)} MiB ` +
    `(xz -6 encoder needs 94 MiB; budget ${(budget / 2 ** 20).toFixed(0)} MiB) + the block's JS input/output buffers`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
