// Issue 18 in headless Chromium: a config from a link, an imported file or a hash change cannot make
// the page trust a key, a cache or unsigned paths. The cache servers' request logs prove that nothing
// is fetched before the user's consent; after it, the image equals the CLI's.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
// @ts-expect-error: plain .mjs script without type declarations
import { createStaticServer, listen } from '../scripts/serve.mjs';
import type { ConfigJson } from '../web/config-draft.ts';
import { encodeConfigFragment } from '../web/config-url.ts';
import { openBrowser, openLink, pressAndDownload, screenshot, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { closeServer, serveCache, type CacheServer } from './helpers/cache-server.ts';
import { runCli } from './helpers/cli.ts';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';

/** Long enough for a build the page wrongly started to have asked the cache for something. */
const NOTHING_HAPPENS_MS = 1500;

let fx: Fixture;
let app: WebApp;
let session: BrowserSession;
let tmp: string;
let reference: Buffer;
const servers: CacheServer[] = [];

function config(cache: CacheServer, extra: Partial<ConfigJson> = {}): ConfigJson {
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

async function newCache(dir = fx.caches.xz): Promise<CacheServer> {
  const c = await serveCache(dir);
  servers.push(c);
  return c;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const link = (c: ConfigJson) => app.url + encodeConfigFragment(c);

/** Presses Build while the page asks for trust: it must download nothing, write nothing and say why. */
async function buildIsRefused(page: Page, caches: CacheServer[]): Promise<void> {
  const before = caches.map((c) => c.requests.length);
  let downloads = 0;
  const count = () => downloads++;
  page.on('download', count);
  await page.click('#build');
  await page.waitForSelector('.trust-blocked:not([hidden])');
  await page.waitForTimeout(NOTHING_HAPPENS_MS);
  page.off('download', count);
  assert.deepEqual(
    caches.map((c) => c.requests.length),
    before,
    `requests before consent: ${caches.map((c) => c.requests.join(' ')).join(' | ')}`,
  );
  assert.equal(downloads, 0);
  assert.equal(await page.getAttribute('body', 'data-state'), 'idle');
  assert.equal(await page.textContent('#result'), '');
}

async function trustCard(page: Page): Promise<string> {
  await page.waitForSelector('#trust:not([hidden]) .card.trust');
  return (await page.textContent('#trust .card.trust')) ?? '';
}

async function signers(page: Page): Promise<string> {
  return (await page.textContent('#signers')) ?? '';
}

describe('trust settings from outside need consent (headless Chromium)', { timeout: 600_000 }, () => {
  let cache: CacheServer;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-trust-'));
    fx = await fixtureCache();
    cache = await newCache();
    app = await serveWebApp();
    session = await openBrowser();
    const cfg = join(tmp, 'cli.json');
    await writeFile(cfg, JSON.stringify({ ...config(cache), substituters: [fx.caches.none] }));
    const out = join(tmp, 'cli.tar');
    const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    reference = await readFile(out);
  });

  after(async () => {
    await session?.close();
    for (const s of servers) await s.close();
    await app?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a link with an unknown key and cache: Build fetches nothing, the page names both, Trust and build builds', async () => {
    const { page } = session;
    await openLink(page, link(config(cache)));
    const card = await trustCard(page);
    assert.ok(card.includes(fx.publicKey), `the full key is not shown: ${card}`);
    assert.ok(card.includes('fixture-1'), card);
    assert.ok(card.includes(cache.url), `the cache URL is not shown: ${card}`);
    assert.ok(card.includes('the link you opened'), card);
    await buildIsRefused(page, [cache]);
    await screenshot(page, 'trust-01-asked');
    const got = await pressAndDownload(session, '#trust-build');
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(cache.requests.length > 0);
    const s = await signers(page);
    assert.match(s, new RegExp(`${fx.closure.length} store paths signed by fixture-1`));
    assert.ok(s.includes(fx.publicKey), s);
    assert.ok(await page.isHidden('#trust'), 'the card stays after consent');
    await screenshot(page, 'trust-02-signed-by');
  });

  test('a confirmed key and cache build with one press, after a reload too', async () => {
    const { page } = session;
    await openLink(page, link(config(cache, { fileName: 'again.tar' })));
    assert.ok(await page.isHidden('#trust'));
    const got = await pressAndDownload(session);
    assert.equal(got.name, 'again.tar');
    assert.equal(sha(got.bytes), sha(reference));
    await page.reload();
    await page.waitForSelector('#config-status[data-valid="true"]');
    assert.ok(await page.isHidden('#trust'), 'a reload forgot the confirmed key');
  });

  test('requireSigs: false in a link is said in plain words, needs consent each time, and the summary says unsigned', async () => {
    const { page } = session;
    const unsigned = await newCache(fx.caches.unsigned);
    // The unsigned cache is new too; the default key is trusted, so only the cache and the signatures are asked about.
    const cfg: ConfigJson = { ...config(unsigned, { requireSigs: false }) };
    delete cfg.trustedPublicKeys;
    await openLink(page, link(cfg));
    const card = await trustCard(page);
    assert.match(card, /Signatures not required/);
    assert.ok(!card.includes('Signing key'), card);
    await buildIsRefused(page, [unsigned]);
    const got = await pressAndDownload(session, '#trust-build');
    assert.equal(sha(got.bytes), sha(reference));
    assert.match(await signers(page), new RegExp(`${fx.closure.length} store paths unsigned`));
    await openLink(page, link(cfg));
    const again = await trustCard(page);
    assert.match(again, /Signatures not required/, 'requireSigs: false was remembered');
    assert.ok(!again.includes(unsigned.url), 'the confirmed cache was asked about again');
    await buildIsRefused(page, [unsigned]);
  });

  test('a new substituter in a link gets no request before consent', async () => {
    const { page } = session;
    const other = await newCache();
    await openLink(page, link(config(other)));
    const card = await trustCard(page);
    assert.ok(card.includes(other.url), card);
    assert.ok(!card.includes('Signing key'), `the confirmed key was asked about again: ${card}`);
    await buildIsRefused(page, [other, cache]);
    assert.equal(other.requests.length, 0);
    const got = await pressAndDownload(session, '#trust-build');
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(other.requests.some((r) => r.endsWith('.narinfo')));
  });

  test('Import JSON adding a key needs consent', async () => {
    const { page } = session;
    await openLink(page, link(config(cache)));
    assert.ok(await page.isHidden('#trust'));
    const file = join(tmp, 'shared.json');
    await writeFile(file, JSON.stringify(config(cache, { trustedPublicKeys: [fx.publicKey, fx.otherPublicKey] })));
    await page.setInputFiles('#import-file', file);
    const card = await trustCard(page);
    assert.ok(card.includes(fx.otherPublicKey), card);
    assert.ok(card.includes('shared.json'), card);
    assert.ok(!card.includes(cache.url), card);
    await buildIsRefused(page, [cache]);
    const got = await pressAndDownload(session, '#trust-build');
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(!(await signers(page)).includes('other-1'), 'the summary names a key that signed nothing');
  });

  test('a hash change on an open page adding a key and a cache needs consent', async () => {
    const { page } = session;
    await openLink(page, link(config(cache)));
    const third = await newCache();
    const changed = config(third, { trustedPublicKeys: [fx.publicKey, fx.otherPublicKey.replace('other-1', 'other-2')], fileName: 'changed.tar' });
    await page.evaluate((hash) => (location.hash = hash), encodeConfigFragment(changed));
    await page.waitForFunction(() => (document.querySelector('#file-name') as HTMLInputElement | null)?.value === 'changed.tar');
    const card = await trustCard(page);
    assert.ok(card.includes(third.url) && card.includes('other-2:'), card);
    await buildIsRefused(page, [third, cache]);
    await page.click('#trust-only');
    assert.ok(await page.isHidden('#trust'));
    const got = await pressAndDownload(session);
    assert.equal(got.name, 'changed.tar');
  });

  test('caches, keys and requireSigs typed into the form are the user’s choice: Build builds at once', async () => {
    const { page } = session;
    const typed = await newCache();
    await openLink(page, link(config(cache)));
    await page.fill('#substituters', typed.url);
    await page.fill('#trusted-keys', `${fx.publicKey}\n${fx.otherPublicKey.replace('other-1', 'typed-1')}`);
    await page.uncheck('text=Require signatures');
    const got = await pressAndDownload(session);
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(typed.requests.length > 0);
    assert.ok(await page.isHidden('#trust'));
  });

  test('framed by another origin the page does not start, with or without the server’s frame-ancestors header', async () => {
    const framer = join(tmp, 'framer');
    await mkdir(framer);
    await writeFile(join(framer, 'index.html'), `<!doctype html><iframe id="f" src="${link(config(cache))}" width="800" height="600"></iframe>`);
    const server: Server = createStaticServer({ root: framer });
    const framerUrl: string = await listen(server, 0);
    // A fresh profile: the app's service worker would answer the frame's request past page.route.
    const fresh = await openBrowser();
    const { page } = fresh;
    try {
      const appFrame = async () => {
        await page.goto(framerUrl);
        await page.waitForTimeout(NOTHING_HAPPENS_MS);
        return page.frames().find((f) => f !== page.mainFrame());
      };
      // scripts/serve.mjs forbids framing: Chromium does not even load the app into the frame.
      const blocked = await appFrame();
      assert.equal(await blocked?.$('#build').catch(() => null), null, 'the app loaded in a frame despite frame-ancestors');
      // A host that sends no such header: the page itself refuses.
      await page.route(`${app.url}**`, async (route) => {
        const res = await route.fetch();
        const headers = { ...res.headers() };
        delete headers['content-security-policy'];
        await route.fulfill({ response: res, headers });
      });
      const frame = await appFrame();
      assert.ok(frame, 'no frame');
      await frame.waitForSelector('body[data-state="framed"]');
      assert.equal(await frame.$('#build'), null);
      assert.match((await frame.textContent('body')) ?? '', /does not run inside another site/);
    } finally {
      await fresh.close();
      await closeServer(server);
    }
  });
});
