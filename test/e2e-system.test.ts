// The toplevel-first flow in headless Chromium: a NixOS-like toplevel (test/fixtures/nixos) named in
// the page, read from its cache, and built as the image chosen from the targets offered; each
// download must equal, byte for byte, what the CLI writes for the equivalent config.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { parseConfig } from '../core/pipeline/config.ts';
import { ERROR_HEADLINES } from '../core/errors.ts';
import { BUILD_TIMEOUT, openBrowser, pressAndDownload, screenshot, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { serveCache, type CacheServer } from './helpers/cache-server.ts';
import { runCli, sh } from './helpers/cli.ts';
import { encodeConfigFragment } from '../web/config-url.ts';
import type { ConfigJson } from '../web/config-draft.ts';
import { nixosFixture, toplevelConfig, type NixosFixture } from './helpers/nixos-fixture.ts';

let fx: NixosFixture;
let app: WebApp;
let cache: CacheServer;
let session: BrowserSession;
let tmp: string;

const cliOutputs = new Map<string, Promise<Buffer>>();

/** The CLI's bytes for `config`, built once per name. */
function cliBuild(name: string, config: Record<string, unknown>): Promise<Buffer> {
  let out = cliOutputs.get(name);
  if (out === undefined) cliOutputs.set(name, (out = cliBuildOnce(name, config)));
  return out;
}

async function cliBuildOnce(name: string, config: Record<string, unknown>): Promise<Buffer> {
  const cfg = join(tmp, `${name}.json`);
  const out = join(tmp, name);
  await writeFile(cfg, JSON.stringify(config));
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
  assert.equal(r.code, 0, `CLI build failed: ${r.stderr}`);
  return readFile(out);
}

/** Names the system in the page by typing, as a user would, and waits for the report (or the error). */
async function nameSystem(page: Page, toplevel: string, cacheUrl = cache.url, key = fx.publicKey): Promise<void> {
  await page.goto('about:blank');
  await page.goto(app.url);
  await page.fill('#toplevel', toplevel);
  await page.fill('#system-cache', cacheUrl);
  await page.fill('#system-key', key);
  await page.press('#system-key', 'Enter');
}

const available = (page: Page, id: string) => page.getAttribute(`.target[data-target="${id}"]`, 'data-available');

/** Whether this version's parser takes a format (disk and netboot come from other branches). */
function parses(config: Record<string, unknown>): boolean {
  try {
    parseConfig(config);
    return true;
  } catch {
    return false;
  }
}

async function tabTo(page: Page, id: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} cannot be reached with Tab`);
}

describe('toplevel-first flow (headless Chromium)', { timeout: 900_000 }, () => {
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-e2e-system-'));
    fx = await nixosFixture();
    cache = await serveCache(fx.cache);
    app = await serveWebApp();
    session = await openBrowser();
  });

  after(async () => {
    await session?.close();
    await cache?.close();
    await app?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('keyboard only: the live toplevel, inspected and built as a live ISO, equals the CLI output', async () => {
    const { page } = session;
    await page.goto(app.url);
    await tabTo(page, 'toplevel');
    await page.keyboard.type(fx.paths.live);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(cache.url);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(fx.publicKey);
    await screenshot(page, 'system-01-named');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
    await screenshot(page, 'system-02-inspected');
    assert.match((await page.textContent('#system-label'))!, /24\.05/);
    assert.equal(await page.textContent('#system-double'), 'x86_64-linux');
    assert.match((await page.textContent('#system-kernel'))!, /linux-6\.1\.0/);
    const closure = (await page.textContent('#system-closure'))!;
    assert.match(closure, /^\d+ store paths · /);
    assert.ok(await page.locator(`.treemap .tile[data-path="${fx.paths.live}"]`).count() === 1, 'the toplevel is in the treemap');
    // Suitability: a live system is offered as a live ISO and tarballs; disks need a disk system.
    assert.equal(await available(page, 'iso'), 'true');
    assert.equal(await available(page, 'lxc'), 'true');
    assert.equal(await available(page, 'tarball'), 'true');
    assert.equal(await available(page, 'qcow2'), 'false');
    assert.match((await page.textContent('.target[data-target="qcow2"] small'))!, /root=LABEL=/);
    assert.match((await page.textContent('.target[data-target="netboot"] small'))!, parses({ format: 'netboot', toplevel: fx.paths.live }) ? /iPXE/ : /not in this version/);
    // The first available target has the focus; Space chooses it.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'target-iso');
    await page.keyboard.press('Space');
    await page.waitForSelector('#config-status[data-valid="true"]');
    await tabTo(page, 'build');
    const download = page.waitForEvent('download', { timeout: BUILD_TIMEOUT });
    await page.keyboard.press('Enter');
    const d = await download;
    await page.waitForSelector('body[data-state="done"]');
    await screenshot(page, 'system-03-iso-built');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'download', 'focus lands on the download, not <body>');
    const want = await cliBuild('live.iso', toplevelConfig(fx, fx.paths.live, 'iso', { substituters: [fx.cache] }));
    assert.equal(d.suggestedFilename(), parseConfig(toplevelConfig(fx, fx.paths.live, 'iso')).fileName);
    assert.ok((await readFile(await d.path())).equals(want), 'the browser ISO differs from the CLI ISO');
  });

  test('the LXC container tarball chosen from the targets equals the CLI output', async () => {
    const { page } = session;
    await nameSystem(page, fx.paths.plain);
    await page.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
    await page.check('#target-lxc');
    await page.waitForSelector('#config-status[data-valid="true"]');
    assert.match((await page.textContent('#build'))!, /nixos-system-x86_64-linux\.tar\.xz/);
    const got = await pressAndDownload(session);
    await screenshot(page, 'system-04-lxc-built');
    const want = await cliBuild('lxc.tar.xz', toplevelConfig(fx, fx.paths.plain, 'tarball', { preset: 'lxc', substituters: [fx.cache] }));
    assert.equal(got.name, 'nixos-system-x86_64-linux.tar.xz');
    assert.ok(got.bytes.equals(want), 'the browser LXC tarball differs from the CLI one');
    // Another target makes the "Image ready" card stale: it goes.
    await page.check('#target-proxmox-lxc');
    await page.waitForFunction(() => document.querySelector('#result .done') === null);
  });

  test('a disk system: not offered as a live ISO (with the reason); its qcow2 equals the CLI output', async () => {
    const { page } = session;
    await nameSystem(page, fx.paths.disk);
    await page.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
    assert.equal(await available(page, 'iso'), 'false');
    assert.match((await page.textContent('.target[data-target="iso"] small'))!, /no root=LABEL=/);
    assert.equal(await available(page, 'lxc'), 'true');
    for (const id of ['raw-efi', 'qcow2', 'vhd', 'vmdk', 'vdi']) assert.equal(await available(page, id), 'true', id);
    await page.check('#target-qcow2');
    await page.waitForSelector('#config-status[data-valid="true"]');
    const got = await pressAndDownload(session);
    await screenshot(page, 'system-06-qcow2-built');
    const want = await cliBuild('disk.qcow2', toplevelConfig(fx, fx.paths.disk, 'disk', { diskFormat: 'qcow2', substituters: [fx.cache] }));
    assert.equal(got.name, parseConfig(toplevelConfig(fx, fx.paths.disk, 'disk', { diskFormat: 'qcow2' })).fileName);
    assert.ok(got.bytes.equals(want), 'the browser qcow2 differs from the CLI one');
  });

  const errorCases: { kind: string; setup: () => [string, string, string]; headline: string; words: RegExp }[] = [
    { kind: 'config (empty toplevel)', setup: () => ['', cache.url, fx.publicKey], headline: ERROR_HEADLINES.config, words: /Toplevel store path/ },
    { kind: 'config (not a store path)', setup: () => ['/tmp/result', cache.url, fx.publicKey], headline: ERROR_HEADLINES.config, words: /toplevel/ },
    { kind: 'path not in the cache', setup: () => ['/nix/store/00000000000000000000000000000000-nixos-system-gone-24.05', cache.url, fx.publicKey], headline: ERROR_HEADLINES['missing-path'], words: /00000000000000000000000000000000-nixos-system-gone/ },
    { kind: 'signature not trusted', setup: () => [fx.paths.live, cache.url, 'other-1:' + Buffer.alloc(32, 7).toString('base64')], headline: ERROR_HEADLINES.signature, words: /fixture-1/ },
    { kind: 'cache unreachable', setup: () => [fx.paths.live, 'http://127.0.0.1:9/cache', fx.publicKey], headline: ERROR_HEADLINES.download, words: /127\.0\.0\.1:9/ },
  ];
  for (const c of errorCases) {
    test(`error kind: ${c.kind}`, async () => {
      const { page } = session;
      await nameSystem(page, ...c.setup());
      if (await page.isVisible('#trust-only')) await page.click('#trust-only');
      await page.waitForSelector('#result .error', { timeout: BUILD_TIMEOUT });
      const title = (await page.textContent('#result .error h3'))!;
      assert.equal(title.toLowerCase(), c.headline.toLowerCase());
      assert.match((await page.textContent('#result .error'))!, c.words);
      await screenshot(page, `system-error-${c.kind.replace(/[^a-z]+/g, '-')}`);
    });
  }

  test('File System Access: the ISO streams straight into the picked file (no OPFS output), equal to the CLI output', async () => {
    const picked = await session.context.newPage();
    // Headless Chromium cannot show the picker: it answers with a file handle as the real one does (here an OPFS file).
    await picked.addInitScript(() => {
      (window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async ({ suggestedName }: { suggestedName: string }) =>
        (await navigator.storage.getDirectory()).getFileHandle(`picked-${suggestedName}`, { create: true });
    });
    try {
      await nameSystem(picked, fx.paths.live);
      await picked.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
      await picked.check('#target-iso');
      await picked.waitForSelector('#config-status[data-valid="true"]');
      assert.ok(await picked.isVisible('#direct-save'), 'the option is offered where the API exists');
      await picked.check('#direct-save');
      await picked.click('#build');
      await picked.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: BUILD_TIMEOUT });
      assert.equal(await picked.getAttribute('#result .done', 'data-written'), 'picked-file', (await picked.textContent('#result')) ?? '');
      await screenshot(picked, 'system-08-saved-to-file');
      const name = parseConfig(toplevelConfig(fx, fx.paths.live, 'iso')).fileName;
      const got = await picked.evaluate(async (file) => {
        const root = await navigator.storage.getDirectory();
        const bytes = await (await (await root.getFileHandle(file)).getFile()).arrayBuffer();
        const outputs = await (await root.getDirectoryHandle('nix-imager')).getDirectoryHandle('outputs', { create: true });
        const left: string[] = [];
        for await (const n of (outputs as unknown as { keys(): AsyncIterable<string> }).keys()) left.push(n);
        const hex = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
        return { hex, size: bytes.byteLength, left };
      }, `picked-${name}`);
      const want = await cliBuild('live.iso', toplevelConfig(fx, fx.paths.live, 'iso', { substituters: [fx.cache] }));
      assert.equal(got.size, want.length);
      assert.equal(got.hex, createHash('sha256').update(want).digest('hex'), 'the picked file differs from the CLI ISO');
      assert.deepEqual(got.left, [], 'nothing was written to OPFS outputs');
    } finally {
      await picked.close();
    }
  });

  test('a folder chosen in the custom form lands with its tree, as the CLI copies a local directory', async () => {
    const { page } = session;
    const site = join(tmp, 'site');
    await mkdir(join(site, 'css'), { recursive: true });
    await writeFile(join(site, 'index.html'), '<h1>hello</h1>\n');
    await writeFile(join(site, 'css', 'main.css'), 'h1 { color: teal }\n');
    for (const [p, mode] of [[site, 0o755], [join(site, 'css'), 0o755], [join(site, 'index.html'), 0o644], [join(site, 'css', 'main.css'), 0o644]] as const) await chmod(p, mode);
    const config = { format: 'tarball', compression: 'none', storeContents: [{ object: fx.paths.plain }], substituters: [cache.url], trustedPublicKeys: [fx.publicKey] };
    await page.goto('about:blank');
    await page.goto(app.url + encodeConfigFragment(config as ConfigJson));
    await page.waitForSelector('#config-status[data-valid="true"]');
    await page.setInputFiles('#folder-picker', site);
    await page.waitForSelector('.file-chip.ready');
    assert.match((await page.textContent('.file-chip.ready'))!, /folder: 2 files/);
    const got = await pressAndDownload(session);
    await screenshot(page, 'system-09-folder');
    // cliBuild writes its config into `tmp`, so the CLI reads ./site from the same folder.
    const want = await cliBuild('folder.tar', { ...config, substituters: [fx.cache], contents: [{ source: './site', target: '/site' }] });
    assert.ok(got.bytes.equals(want), 'the browser tarball with the folder differs from the CLI one');
    const listed = await sh('tar', ['-tvf', '-'], { input: got.bytes });
    assert.match(listed, /^drwxr-xr-x .* site\/css\/$/m);
    assert.match(listed, /^-rw-r--r-- .* site\/css\/main\.css$/m);
  });

  test('custom form by keyboard: Import JSON is reachable with Tab; the focus stays put when the format or compression changes', async () => {
    const { page } = session;
    const config = { format: 'tarball', storeContents: [{ object: fx.paths.plain }], substituters: [cache.url], trustedPublicKeys: [fx.publicKey] };
    await page.goto('about:blank');
    await page.goto(app.url + encodeConfigFragment(config as ConfigJson));
    await page.waitForSelector('#config-status[data-valid="true"]');
    await tabTo(page, 'import-json');
    await page.focus('#format-tarball');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#format-iso:checked');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'format-iso');
    await page.focus('#compression');
    await page.selectOption('#compression', 'zstd');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'compression');
  });

  test('error kind: config in the custom form, shown at its field in the form\'s words, Build off until fixed', async () => {
    const { page } = session;
    const config = { format: 'tarball', storeContents: [{ object: fx.paths.plain }], contents: [{ text: 'hello\n', target: 'etc/motd' }], substituters: [cache.url], trustedPublicKeys: [fx.publicKey] };
    await page.goto('about:blank');
    await page.goto(app.url + encodeConfigFragment(config as ConfigJson));
    await page.waitForSelector('#config-status[data-valid="false"]');
    assert.equal(await page.textContent('#config-status'), 'Contents, entry 1: Target: "etc/motd" must be an absolute path in the image');
    assert.equal(await page.getAttribute('#content-0-target', 'aria-invalid'), 'true');
    assert.equal(await page.textContent('#content-0-target-error'), '"etc/motd" must be an absolute path in the image');
    assert.ok(await page.isDisabled('#build'), 'Build is off while the config is invalid');
    await screenshot(page, 'system-error-config-field');
    await page.fill('#content-0-target', '/etc/motd');
    await page.waitForSelector('#config-status[data-valid="true"]');
    assert.equal(await page.locator('[aria-invalid="true"]').count(), 0);
    assert.ok(!(await page.isDisabled('#build')));
  });

  test('sizes before building: each target has an estimate, and a warning when browser storage is too small', async () => {
    const { page } = session;
    await nameSystem(page, fx.paths.live);
    await page.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
    assert.match((await page.textContent('.target[data-target="iso"] .estimate'))!, /^≈ \d/);
    assert.match((await page.textContent('#system-storage'))!, /free for this site/);
    assert.equal(await page.locator('.quota-warning').count(), 0, 'no warning when the closure fits');
    const small = await session.context.newPage();
    await small.addInitScript(() => {
      navigator.storage.estimate = async () => ({ quota: 1000, usage: 0 });
    });
    try {
      await nameSystem(small, fx.paths.live);
      await small.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
      assert.match((await small.textContent('.target[data-target="lxc"] .quota-warning'))!, /Needs about .* of browser storage; 1000 B is free/);
      await screenshot(small, 'system-07-quota-warning');
    } finally {
      await small.close();
    }
  });

  test('first load: page weight measured; each asset fetched at most twice (the page, then the service worker\'s copy)', async () => {
    const fresh = await openBrowser();
    try {
      app.requests.length = 0;
      await fresh.page.goto(app.url);
      await fresh.page.waitForSelector('#config-status[data-valid="true"]');
      await fresh.page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        const list = (await (await fetch('./precache.json')).json()) as { files: string[] };
        for (let i = 0; i < 200; i++) {
          const kept = await (await caches.open('nix-imager-app')).keys();
          if (kept.length >= list.files.length) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('the service worker did not keep the app');
      });
      const byPath = new Map<string, number>();
      for (const r of app.requests) byPath.set(r.path.split('?')[0]!, (byPath.get(r.path.split('?')[0]!) ?? 0) + 1);
      const twice = [...byPath].filter(([p, n]) => n > 2 && p.includes('/assets/'));
      assert.deepEqual(twice, [], 'hashed assets fetched more than twice');
      const total = app.requests.reduce((n, r) => n + r.bytes, 0);
      const wasm = app.requests.filter((r) => r.path.endsWith('.wasm')).reduce((n, r) => n + r.bytes, 0);
      console.log(`first load: ${app.requests.length} requests, ${(total / 1024).toFixed(0)} KiB (${(wasm / 1024).toFixed(0)} KiB of it wasm, ${((total - wasm) / 1024).toFixed(0)} KiB without)`);
    } finally {
      await fresh.close();
    }
  });

  test('phone width and dark mode: the flow fits 360 px', async () => {
    const { page } = session;
    await page.setViewportSize({ width: 360, height: 780 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await nameSystem(page, fx.paths.live);
    await page.waitForSelector('.targets', { timeout: BUILD_TIMEOUT });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(244, 246, 250)', 'dark mode keeps the light background');
    await screenshot(page, 'system-05-phone-dark');
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
