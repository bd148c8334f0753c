// SHA-256 in headless Chromium (`node --import tsx bench/browser-sha256.ts [MiB]`, default 256; also run by `npm run bench`):
// MB/s of the portable @noble/hashes (what the browser used before), hash-wasm's WebAssembly build
// (worker/wasm-sha256.ts, what it uses now), both fed 1 MiB chunks as a NAR stream is, and
// WebCrypto's one-shot digest of the whole buffer (no streaming API: the ceiling, not an option).
// node:crypto in this process is the native reference. Checks all four digests agree.
import { createHash, randomFillSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { openBrowser } from '../test/helpers/browser.ts';
import { ROOT } from '../test/helpers/cli.ts';

const MiB = Number(process.argv[2] ?? 256);
const MB = 1e6;

const entry = `
import { createSha256 } from './core/primitives/sha256.ts';
import { wasmSha256 } from './worker/wasm-sha256.ts';
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
globalThis.benchSha = async (mib) => {
  const data = new Uint8Array(mib * 1048576);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const streamed = (make) => {
    const t = performance.now();
    const h = make();
    for (let i = 0; i < data.length; i += 1048576) h.update(data.subarray(i, i + 1048576));
    const d = hex(h.digest());
    return { ms: performance.now() - t, d };
  };
  const wasm = await wasmSha256();
  const noble = streamed(createSha256);
  const hw = streamed(wasm);
  const t = performance.now();
  const wc = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
  const webcrypto = { ms: performance.now() - t, d: wc };
  return { noble, wasm: hw, webcrypto, sample: hex(data.subarray(0, 32)) };
};`;

const bundle = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' }, bundle: true, format: 'iife', write: false, platform: 'browser' });
const js = bundle.outputFiles[0]!.text;
const server = createServer((req, res) => {
  if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/bench.js"></script>');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const session = await openBrowser();
try {
  await session.page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const r = await session.page.evaluate((mib) => (globalThis as unknown as { benchSha(m: number): Promise<Record<string, { ms: number; d: string }>> }).benchSha(mib), MiB);
  const bytes = MiB * 1048576;
  const data = Buffer.alloc(bytes);
  randomFillSync(data);
  const t = performance.now();
  createHash('sha256').update(data).digest();
  const nodeMs = performance.now() - t;
  if (r['noble']!.d !== r['wasm']!.d || r['wasm']!.d !== r['webcrypto']!.d) throw new Error(`digests disagree: ${JSON.stringify(r)}`);
  const rate = (ms: number) => bytes / MB / (ms / 1000);
  const [noble, wasm, webcrypto, native] = [r['noble']!.ms, r['wasm']!.ms, r['webcrypto']!.ms, nodeMs].map(rate) as [number, number, number, number];
  console.log(`SHA-256 of ${MiB} MiB: Chromium noble ${noble.toFixed(0)} MB/s, hash-wasm ${wasm.toFixed(0)} MB/s, WebCrypto one-shot ${webcrypto.toFixed(0)} MB/s; node:crypto ${native.toFixed(0)} MB/s`);
  console.log(`ratios: hash-wasm/noble ${(wasm / noble).toFixed(2)}, hash-wasm/WebCrypto ${(wasm / webcrypto).toFixed(2)}, hash-wasm/node:crypto ${(wasm / native).toFixed(2)} (higher is better)`);
  console.log('BENCH-JSON ' + JSON.stringify({ bench: 'browser-sha256', inputMiB: MiB, nobleMBs: noble, hashWasmMBs: wasm, webCryptoMBs: webcrypto, nodeCryptoMBs: native, ratio: wasm / noble }));
} finally {
  await session.close();
  server.close();
}
