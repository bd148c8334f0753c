// core/nixdb in a browser worker built by vite (the .wasm as a vite asset, worker/sqlite-wasm.ts)
// writes the same bytes as in Node (which test/nixdb.test.ts has Nix 2.8 judge).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { nixDatabase, type NixDbEntry } from '../core/nixdb/nix-database.ts';
import { nodeSqlite } from '../node/sqlite-wasm.ts';
import { openSite } from './helpers/browser.ts';
import { ROOT } from './helpers/cli.ts';

const dir = join(ROOT, 'test-artifacts', 'nixdb-browser');
after(() => rmSync(dir, { recursive: true, force: true }));

const hash = (n: number) => ({ algo: 'sha256' as const, digest: new Uint8Array(32).fill(n) });
const path = (c: string, name: string) => `/nix/store/${c.repeat(32)}-${name}`;
const ENTRIES: NixDbEntry[] = [
  { path: path('a', 'lib'), narHash: hash(1), narSize: 1000, references: [] },
  { path: path('b', 'app'), narHash: hash(2), narSize: 2000, references: [path('a', 'lib'), path('b', 'app')], deriver: path('c', 'app.drv'), sigs: ['k-1:c2ln'] },
  { path: path('d', 'src'), narHash: hash(3), narSize: 300, references: [], ca: `fixed:r:sha256:${'0'.repeat(52)}` },
];
const EPOCH = 1700000000;

const WORKER = `
import { nixDatabase } from '${ROOT}core/nixdb/nix-database.ts';
import { browserSqlite } from '${ROOT}worker/sqlite-wasm.ts';
onmessage = async (e) => {
  const entries = e.data.map((x) => ({ ...x, narHash: { algo: 'sha256', digest: new Uint8Array(x.narHash) } }));
  try {
    postMessage({ bytes: await nixDatabase(entries, { sqlite: browserSqlite, registrationTime: ${EPOCH} }) });
  } catch (err) {
    postMessage({ error: String(err) });
  }
};
`;
const PAGE = `
window.runNixDb = (entries) => new Promise((resolve) => {
  const worker = new Worker(new URL('./db-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (e) => resolve(e.data.error ?? Array.from(e.data.bytes));
  worker.postMessage(entries);
});
document.title = 'ready';
`;

test('in Chromium: a vite-built module worker writes the database Node writes', async () => {
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>');
  writeFileSync(join(src, 'page.js'), PAGE);
  writeFileSync(join(src, 'db-worker.js'), WORKER);
  const site = join(dir, 'site');
  await build({ configFile: false, root: src, base: './', logLevel: 'error', build: { outDir: site, emptyOutDir: true, target: 'es2022' }, worker: { format: 'es' } });
  assert.ok(readdirSync(join(site, 'assets')).some((f) => f.endsWith('.wasm')), 'vite emitted sqlite3.wasm as an asset');

  const browser = await openSite(site);
  try {
    const plain = ENTRIES.map((e) => ({ ...e, narHash: Array.from(e.narHash.digest) }));
    const r = await browser.page.evaluate((entries) => (window as unknown as { runNixDb(e: unknown): Promise<number[] | string> }).runNixDb(entries), plain);
    assert.ok(Array.isArray(r), `the worker failed: ${r}`);
    assert.deepEqual(browser.errors, []);
    const fromBrowser = Buffer.from(r);
    const fromNode = Buffer.from(await nixDatabase(ENTRIES, { sqlite: nodeSqlite, registrationTime: EPOCH }));
    assert.ok(fromBrowser.equals(fromNode), 'the browser and Node wrote different bytes');
    const file = join(dir, 'browser.sqlite');
    writeFileSync(file, fromBrowser);
    assert.equal(execFileSync('sqlite3', [file, 'select count(*) from ValidPaths; select count(*) from Refs'], { encoding: 'utf8' }), '3\n2\n');
  } finally {
    await browser.close();
  }
});
