// The browser app, end to end: headless Chromium builds images from a real-Nix fixture cache served
// on 127.0.0.1; each download must equal, byte for byte, what the CLI writes for the same config.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { nix32Encode } from '../core/nix/nix32.ts';
import { encodeConfigFragment } from '../web/config-url.ts';
import type { ConfigJson } from '../web/config-draft.ts';
import { BUILD_TIMEOUT, downloadBytes, openBrowser, openLink, pressAndDownload, screenshot, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { narFileOf, serveCache, type CacheServer } from './helpers/cache-server.ts';
import { ROOT, run, runCli } from './helpers/cli.ts';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';

let fx: Fixture;
let app: WebApp;
let cache: CacheServer;
let session: BrowserSession;
let tmp: string;
const cliOutputs = new Map<string, Promise<Buffer>>();

function tarballConfig(extra: Partial<ConfigJson> = {}): ConfigJson {
  return {
    format: 'tarball',
    compression: 'none',
    substituters: [cache.url],
    trustedPublicKeys: [fx.publicKey],
    storeContents: [{ object: fx.paths.toplevel, symlink: '/run/current-system' }],
    contents: [{ text: 'built in a browser\n', target: '/etc/motd' }],
    ...extra,
  };
}

/**
 * The CLI's bytes for `config` (each config built once), the reference the browser must match. The CLI
 * reads the same closure from the uncompressed fixture cache on disk: where the NARs come from does not
 * change the image.
 */
function cliBuild(config: ConfigJson): Promise<Buffer> {
  const key = JSON.stringify(config);
  let out = cliOutputs.get(key);
  if (out === undefined) {
    out = (async () => {
      const n = cliOutputs.size;
      const cfg = join(tmp, `cli-${n}.json`);
      const output = join(tmp, `cli-${n}.out`);
      await writeFile(cfg, JSON.stringify({ ...config, substituters: [fx.caches.none] }));
      const r = await runCli(['build', cfg, '--output', output, '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
      assert.equal(r.code, 0, `CLI build failed: ${r.stderr}`);
      return readFile(output);
    })();
    cliOutputs.set(key, out);
  }
  return out;
}

/** Opens `config` as a link and, when the page asks (a key or cache new to this browser), trusts it: test/e2e-trust.test.ts tests the asking. */
async function openConfig(page: Page, config: ConfigJson): Promise<void> {
  await openLink(page, app.url + encodeConfigFragment(config));
  if (await page.isVisible('#trust-only')) await page.click('#trust-only');
}

/** Clicks Build and returns the file the browser downloaded. */
async function browserBuild(page: Page, doneShot?: string): Promise<{ name: string; bytes: Buffer }> {
  const got = await pressAndDownload(session, '#build', page);
  if (doneShot) await screenshot(page, doneShot);
  return got;
}

function narRequests(): number {
  return cache.requests.filter((r) => r.startsWith('nar/')).length;
}

/** The NAR cache's files in OPFS, each with the nix32 sha256 of its bytes (the key it must carry). */
async function opfsNarEntries(page: Page): Promise<{ name: string; sha256: string }[]> {
  const entries = await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle('nix-imager')).getDirectoryHandle('nar');
    const out: { name: string; hex: string }[] = [];
    for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemFileHandle> }).values()) {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await (await h.getFile()).arrayBuffer()));
      out.push({ name: h.name, hex: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') });
    }
    return out;
  });
  return entries.map((e) => ({ name: e.name, sha256: nix32Encode(Buffer.from(e.hex, 'hex')) }));
}

async function opfsOutputs(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle('nix-imager')).getDirectoryHandle('outputs', { create: true });
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  });
}

function assertCacheEntriesSound(entries: { name: string; sha256: string }[]): void {
  for (const e of entries) {
    if (/^[0-9a-z]{52}\.ok$/.test(e.name)) continue; // a verification record
    assert.match(e.name, /^[0-9a-z]{52}\.nar$/, `stray file in the NAR cache: ${e.name}`);
    assert.equal(`${e.sha256}.nar`, e.name, `NAR cache entry ${e.name} does not hash to its key`);
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('browser app (headless Chromium)', { timeout: 600_000 }, () => {
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-e2e-'));
    fx = await fixtureCache();
    cache = await serveCache(fx.caches.xz);
    app = await serveWebApp();
    session = await openBrowser();
  });

  after(async () => {
    await session?.close();
    await cache?.close();
    await app?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('an uncompressed tarball downloaded from the page equals the CLI output', async () => {
    const config = tarballConfig();
    const { page } = session;
    await openConfig(page, config);
    await screenshot(page, '01-form');
    await page.click('#resolve');
    await page.waitForSelector('.treemap .tile');
    assert.equal(await page.textContent('#stat-paths .stat-value'), String(fx.closure.length));
    assert.equal(await page.locator('.treemap .tile').count(), fx.closure.length);
    assert.equal(await page.getAttribute(`.treemap .tile[data-path="${fx.paths.toplevel}"]`, 'data-path'), fx.paths.toplevel);
    await screenshot(page, '02-closure');
    const got = await browserBuild(page, '04-finished');
    assert.equal(got.name, 'nixos-system-x86_64-linux.tar');
    const want = await cliBuild(config);
    assert.equal(sha(got.bytes), sha(want), `browser ${got.bytes.length} bytes vs CLI ${want.length} bytes`);
    const listed = await run('tar', ['-tf', '-'], { input: got.bytes });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes('nix-path-registration'), 'GNU tar lists nix-path-registration');
  });

  test('the page opens with the demo config and builds it in one click, as the CLI builds examples/demo.json', async () => {
    const { page } = session;
    await page.goto('about:blank');
    await page.goto(app.url);
    await page.waitForSelector('#config-status[data-valid="true"]');
    const got = await browserBuild(page);
    const out = join(tmp, 'demo.tar');
    const r = await runCli(['build', join(ROOT, 'examples/demo.json'), '--output', out, '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(got.bytes), sha(await readFile(out)));
  });

  test('building the same closure again downloads no NAR', async () => {
    const { page } = session;
    const before = narRequests();
    await openConfig(page, tarballConfig());
    const got = await browserBuild(page);
    assert.equal(narRequests(), before, 'NAR files fetched on the second build');
    assert.equal(sha(got.bytes), sha(await cliBuild(tarballConfig())));
    const names = (await opfsNarEntries(page)).map((e) => e.name);
    for (const n of names.filter((x) => x.endsWith('.nar'))) assert.ok(names.includes(n.replace(/\.nar$/, '.ok')), `no verification record beside ${n} in OPFS`);
    assert.equal(await page.getAttribute('.stage[data-stage="download"]', 'data-state'), 'skipped', 'the page shows a download stage');
  });

  test('a cached NAR changed in OPFS (same size) is verified again, refused and downloaded anew', async () => {
    const { page } = session;
    const changed = await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const dir = await (await root.getDirectoryHandle('nix-imager')).getDirectoryHandle('nar');
      let biggest: FileSystemFileHandle | undefined;
      let size = 0;
      for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemFileHandle> }).values()) {
        const f = await h.getFile();
        if (h.name.endsWith('.nar') && f.size > size) [biggest, size] = [h, f.size];
      }
      const at = Math.floor(size / 2);
      const old = new Uint8Array(await (await biggest!.getFile()).slice(at, at + 1).arrayBuffer());
      const w = await (biggest as unknown as { createWritable(o: object): Promise<{ write(o: object): Promise<void>; close(): Promise<void> }> }).createWritable({ keepExistingData: true });
      await w.write({ type: 'write', position: at, data: new Uint8Array([old[0]! ^ 0xff]) });
      await w.close();
      return { name: biggest!.name, size: (await biggest!.getFile()).size, was: size };
    });
    assert.equal(changed.size, changed.was, 'the change keeps the size');
    const before = narRequests();
    await openConfig(page, tarballConfig());
    const got = await browserBuild(page);
    assert.equal(narRequests(), before + 1, 'the changed NAR, and only it, is downloaded again');
    assert.equal(sha(got.bytes), sha(await cliBuild(tarballConfig())));
    assertCacheEntriesSound(await opfsNarEntries(page));
  });

  test('a file dropped into the page goes into the image as the CLI puts a local file', async () => {
    const { page } = session;
    const local = join(tmp, 'greeting.txt');
    await writeFile(local, 'hello from the desktop\n', { mode: 0o644 });
    await openConfig(page, tarballConfig());
    await page.setInputFiles('#drop-zone input[type="file"]', local);
    await page.waitForSelector('.file-chip.ready');
    const config = tarballConfig({ contents: [...tarballConfig().contents!, { source: './greeting.txt', target: '/greeting.txt' }] });
    const got = await browserBuild(page);
    // cliBuild writes its config into `tmp`, so the CLI reads ./greeting.txt from the same file.
    assert.equal(sha(got.bytes), sha(await cliBuild(config)));
    const listed = await run('tar', ['-tvf', '-'], { input: got.bytes });
    assert.match(listed.stdout, /-rw-r--r-- .* greeting\.txt\n/);
  });

  test('Export JSON downloads the config; Import JSON and a #config= link load it', async () => {
    const { page } = session;
    const config = tarballConfig({ compression: 'xz', xzPreset: 3 });
    await openConfig(page, config);
    const exported = page.waitForEvent('download');
    await page.click('#export-json');
    const json = JSON.parse((await downloadBytes(await exported)).toString('utf8'));
    assert.deepEqual(json, config);
    await openConfig(page, tarballConfig());
    assert.equal(await page.inputValue('#file-name'), '');
    const file = join(tmp, 'imported.json');
    await writeFile(file, JSON.stringify({ ...config, fileName: 'imported' }));
    const before = await page.evaluate(() => location.hash);
    await page.setInputFiles('#import-file', file);
    await page.waitForFunction(() => (document.querySelector('#file-name') as HTMLInputElement | null)?.value === 'imported');
    await page.waitForFunction((old) => location.hash !== old, before);
    const hash = await page.evaluate(() => location.hash);
    const fromLink = JSON.parse(Buffer.from(hash.slice('#config='.length), 'base64url').toString('utf8'));
    assert.deepEqual(fromLink, { ...config, fileName: 'imported' });
  });

  test('an xz tarball (parallel blocks in codec workers) equals the CLI output and passes xz -t', async () => {
    // A closure without the 20 MiB library keeps xz -6 quick on a shared 2-core machine; 64 KiB blocks
    // still make several blocks, compressed in parallel by the codec workers.
    const config = tarballConfig({
      compression: 'xz',
      xzBlockSize: 64 * 1024,
      storeContents: [
        { object: fx.paths.kernel, symlink: '/boot/kernel' },
        { object: fx.paths.etc, symlink: 'none' },
      ],
    });
    await openConfig(session.page, config);
    const got = await browserBuild(session.page);
    assert.equal(got.name, 'nixos-system-x86_64-linux.tar.xz');
    assert.equal(sha(got.bytes), sha(await cliBuild(config)));
    const file = join(tmp, 'browser.tar.xz');
    await writeFile(file, got.bytes);
    const tested = await run('xz', ['-t', file]);
    assert.equal(tested.code, 0, tested.stderr);
    const listed = await run('xz', ['--robot', '-l', file]);
    assert.match(listed.stdout, /^totals\t1\t([2-9]|\d\d+)\t/m, `expected several xz blocks: ${listed.stdout}`);
  });

  test('an ISO equals the CLI output and isoinfo reads it', async () => {
    const config: ConfigJson = { ...tarballConfig(), format: 'iso', iso: { volumeID: 'E2E_ISO' } };
    delete config.compression;
    await openConfig(session.page, config);
    const got = await browserBuild(session.page);
    assert.equal(sha(got.bytes), sha(await cliBuild(config)));
    const iso = join(tmp, 'browser.iso');
    await writeFile(iso, got.bytes);
    const info = await run('isoinfo', ['-d', '-i', iso]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Volume id: E2E_ISO/);
  });

  test('Cancel mid-download leaves no output and no unsound cache entry; the next build is right', async () => {
    const { page } = session;
    await openConfig(page, tarballConfig());
    await page.click('#clear-cache');
    await page.waitForSelector('#cache-usage[data-entries="0"]');
    cache.slowNars(40);
    await page.click('#build');
    await page.waitForSelector('.stage[data-stage="download"][data-state="running"]');
    await page.waitForTimeout(1500);
    await screenshot(page, '03-progress');
    await page.click('#cancel');
    await page.waitForSelector('body[data-state="cancelled"]', { timeout: 15_000 });
    await screenshot(page, '05-cancelled');
    cache.slowNars(0);
    assert.deepEqual(await opfsOutputs(page), [], 'files left in OPFS outputs/ after Cancel');
    assertCacheEntriesSound(await opfsNarEntries(page));
    const got = await browserBuild(page);
    assert.equal(sha(got.bytes), sha(await cliBuild(tarballConfig())));
  });

  test('a corrupted NAR stops the build with an error naming its store path', async () => {
    const broken = await serveCache(fx.caches.xz);
    const fresh = await openBrowser();
    try {
      const victim = fx.paths.app;
      broken.corruptNar(victim);
      const config = { ...tarballConfig(), substituters: [broken.url] };
      await openConfig(fresh.page, config);
      await fresh.page.click('#build');
      await fresh.page.waitForSelector('body[data-state="failed"]', { timeout: BUILD_TIMEOUT });
      const message = await fresh.page.textContent('#result .card.error');
      assert.ok(message?.includes(victim), `error does not name ${victim}: ${message}`);
      await screenshot(fresh.page, '06-error');
      assert.deepEqual(await opfsOutputs(fresh.page), []);
      const entries = await opfsNarEntries(fresh.page);
      assertCacheEntriesSound(entries);
      const info = await readFile(join(fx.caches.xz, `${victim.slice(11, 43)}.narinfo`), 'utf8');
      const key = /^NarHash: sha256:([0-9a-z]{52})$/m.exec(info)![1]!;
      assert.ok(!entries.some((e) => e.name === `${key}.nar`), 'the corrupted NAR was kept in the cache');
    } finally {
      await fresh.close();
      await broken.close();
    }
  });

  test('a cache answering 503 for a NAR until the retries run out: the page says the cache is unavailable, not that bytes were tampered with', async () => {
    const down = await serveCache(fx.caches.xz);
    const fresh = await openBrowser();
    try {
      const victim = fx.paths.app;
      down.failNar(victim, 503);
      await openConfig(fresh.page, { ...tarballConfig(), substituters: [down.url] });
      await fresh.page.click('#build');
      await fresh.page.waitForSelector('body[data-state="failed"]', { timeout: BUILD_TIMEOUT });
      const headline = await fresh.page.textContent('#result .card.error h3');
      const message = (await fresh.page.textContent('#result .card.error')) ?? '';
      assert.equal(headline, 'A binary cache is unavailable');
      assert.match(message, /HTTP 503/);
      assert.ok(message.includes(new URL(narFileOf(fx.caches.xz, victim), down.url).href), `the error names the NAR's URL: ${message}`);
      assert.doesNotMatch(message, /verification|tamper|do not match/i);
      await screenshot(fresh.page, '07-cache-unavailable');
      assert.deepEqual(await opfsOutputs(fresh.page), []);
    } finally {
      await fresh.close();
      await down.close();
    }
  });

  test('with the app server and the binary cache gone, the installed app builds from its caches', async () => {
    const { page } = session;
    await openConfig(page, tarballConfig());
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await app.stop();
    await cache.close();
    await page.reload();
    await page.waitForSelector('#config-status[data-valid="true"]');
    assert.ok(await page.isHidden('#trust'), 'the keys and cache confirmed online are asked about again offline');
    const got = await browserBuild(page, '07-offline');
    assert.equal(sha(got.bytes), sha(await cliBuild(tarballConfig())));
  });
});
