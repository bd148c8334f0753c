import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { openSite } from './helpers/browser.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'xz-browser-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

// The page: a pool of two module workers (worker/codec-worker.ts, serving itself), the
// codecs module fetched by the default loader (wasm/codecs.wasm next to the page's URL).
const PAGE = `
import { wrap } from 'comlink';
import { poolOfWorkers } from '${ROOT}core/codec/worker-pool.ts';
import { fetchedCodecs } from '${ROOT}core/codec/wasm-codecs.ts';
import { xzCompressor } from '${ROOT}core/xz/xz-compressor.ts';
import { xzDecompressor } from '${ROOT}core/xz/xz-decompressor.ts';

async function collect(iter) {
  const parts = [];
  for await (const c of iter) parts.push(c.slice()); // chunks are lent
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
async function* chunks(data) {
  for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
}
window.runCodecs = async () => {
  const input = new Uint8Array(await (await fetch('/input.bin')).arrayBuffer());
  const pool = poolOfWorkers([0, 1].map(() => {
    const worker = new Worker('/worker.js', { type: 'module' });
    return { api: wrap(worker), terminate: () => worker.terminate() };
  }), fetchedCodecs);
  try {
    const xz = await collect(xzCompressor({ preset: 1, blockSize: 1 << 19, pool })(chunks(input)));
    const back = await collect(xzDecompressor()(chunks(xz)));
    const zst = await pool.compress({ codec: 'zstd', level: 3 }, input.slice());
    const same = back.length === input.length && back.every((b, i) => b === input[i]);
    return { xz: base64(xz), zst: base64(zst), decodedSame: same };
  } finally {
    await pool.close();
  }
};
document.title = 'ready';
`;

test('in Chromium: module codec workers encode blocks like xz -T2, the page decodes them, zstd runs in a worker', async () => {
  writeFileSync(join(tmp, 'page.js'), PAGE);
  await build({
    entryPoints: { page: join(tmp, 'page.js'), worker: join(ROOT, 'worker/codec-worker.ts') },
    outdir: join(tmp, 'site'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'error',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  const site = join(tmp, 'site');
  mkdirSync(join(site, 'wasm'));
  copyFileSync(join(ROOT, 'wasm/codecs.wasm'), join(site, 'wasm/codecs.wasm'));
  writeFileSync(join(site, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>');
  const input = Buffer.concat([readFileSync('/usr/bin/bash').subarray(0, 1_300_000), Buffer.from('browser '.repeat(60_000))]);
  writeFileSync(join(site, 'input.bin'), input);

  const browser = await openSite(site);
  try {
    const r = await browser.page.evaluate(() => (window as unknown as { runCodecs(): Promise<{ xz: string; zst: string; decodedSame: boolean }> }).runCodecs());
    assert.deepEqual(browser.errors, []);
    assert.ok(r.decodedSame, 'the page did not decode its own xz back to the input');
    const xz = Buffer.from(r.xz, 'base64');
    const file = join(tmp, 'in.bin');
    writeFileSync(file, input);
    assert.ok(run('xz', ['-1', '-T2', '--block-size=524288', '-c', file]).equals(xz), 'xz from the browser differs from xz -T2');
    assert.ok(run('zstd', ['-q', '-dc'], Buffer.from(r.zst, 'base64')).equals(input));
  } finally {
    await browser.close();
  }
});
