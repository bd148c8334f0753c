// Issue 21, the page: credentials for private caches in headless Chromium, against CORS-enabled
// caches on 127.0.0.1 that demand a bearer token or HTTP Basic auth. The image must equal the CLI's,
// the secret must reach that cache's origin only, and never show up in the URL, an export, the page
// after a reload (unless remembered) or an error message.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ConfigJson } from '../web/config-draft.ts';
import { encodeConfigFragment } from '../web/config-url.ts';
import { downloadBytes, openBrowser, openLink, pressAndDownload, screenshot, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { runCli } from './helpers/cli.ts';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import { servePrivateCache, type PrivateCache } from './helpers/private-cache.ts';

/** A refused cache must be reported this quickly: a 401 is not retried like a 5xx. */
const QUICK_MS = 10_000;

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

let fx: Fixture;
let app: WebApp;
let session: BrowserSession;
let tmp: string;
let reference: Buffer;
const caches: PrivateCache[] = [];

async function cache(dir: string, opts: Parameters<typeof servePrivateCache>[1] = {}): Promise<PrivateCache> {
  const c = await servePrivateCache(dir, opts);
  caches.push(c);
  return c;
}

function config(substituters: string[]): ConfigJson {
  return {
    format: 'tarball',
    compression: 'none',
    substituters,
    trustedPublicKeys: [fx.publicKey],
    storeContents: [{ object: fx.paths.toplevel, symlink: '/run/current-system' }],
    contents: [{ text: 'built in a browser\n', target: '/etc/motd' }],
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const originOf = (url: string) => new URL(url).origin;

/** Opens the config as a link and trusts its new caches (test/e2e-trust.test.ts tests the asking). */
async function open(page: Page, cfg: ConfigJson): Promise<void> {
  await openLink(page, app.url + encodeConfigFragment(cfg));
  if (await page.isVisible('#trust-only')) await page.click('#trust-only');
}

async function setCredentials(page: Page, cacheUrl: string, login: { token: string } | { user: string; password: string }, remember = false): Promise<void> {
  const row = `#credentials .credential[data-origin="${originOf(cacheUrl)}"]`;
  if (!(await page.isVisible(row))) await page.click('#credentials summary');
  if ('token' in login) {
    await page.selectOption(`${row} select`, 'token');
    await page.fill(`${row} input[type="password"]`, login.token);
  } else {
    await page.selectOption(`${row} select`, 'basic');
    await page.fill(`${row} input[type="text"]`, login.user);
    await page.fill(`${row} input[type="password"]`, login.password);
  }
  if (remember) await page.check(`${row} input[type="checkbox"]`);
}

/** Presses Build and expects a failure within QUICK_MS; returns the error card's text. */
async function buildFails(page: Page): Promise<string> {
  const started = Date.now();
  await page.click('#build');
  await page.waitForSelector('body[data-state="failed"]', { timeout: QUICK_MS });
  assert.ok(Date.now() - started < QUICK_MS);
  return (await page.textContent('#result .card.error')) ?? '';
}

/** Where a secret could leak to in the page: its URL, its HTML and its storage, and with `inputs` every field's value. */
async function pageText(page: Page, inputs: boolean): Promise<string> {
  return page.evaluate(
    (withInputs) =>
      [
        location.href,
        document.documentElement.outerHTML,
        JSON.stringify({ ...localStorage }),
        ...(withInputs ? [...document.querySelectorAll('input, textarea')].map((i) => (i as HTMLInputElement).value) : []),
      ].join('\n'),
    inputs,
  );
}

describe('private caches: credentials in the page (headless Chromium)', { timeout: 600_000 }, () => {
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-private-'));
    fx = await fixtureCache();
    app = await serveWebApp();
    session = await openBrowser();
    const cfg = join(tmp, 'cli.json');
    await writeFile(cfg, JSON.stringify(config([fx.caches.none])));
    const out = join(tmp, 'cli.tar');
    const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    reference = await readFile(out);
  });

  after(async () => {
    await session?.close();
    for (const c of caches) await c.close();
    await app?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a token cache: a quick clear 401 without the token, the CLI’s bytes with it; the token goes to that origin only and does not outlive the tab', async () => {
    const { page } = session;
    const empty = join(tmp, 'empty');
    await mkdir(empty);
    const open0 = await cache(empty);
    const priv = await cache(fx.caches.xz, { authorization: `Bearer ${TOKEN}` });
    const cfg = config([open0.url, priv.url]);
    await open(page, cfg);
    const refused = await buildFails(page);
    assert.match(refused, /HTTP 401/);
    assert.ok(refused.includes(originOf(priv.url)) && /credentials/i.test(refused), refused);

    await setCredentials(page, priv.url, { token: 'wrong-token-value' });
    const wrong = await buildFails(page);
    assert.match(wrong, /refused the credentials/);
    assert.ok(!wrong.includes('wrong-token-value'), `the error shows the token: ${wrong}`);

    await setCredentials(page, priv.url, { token: TOKEN });
    await screenshot(page, 'private-01-token');
    const got = await pressAndDownload(session);
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(priv.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.ok(open0.requests.length > 0, 'the open cache was not asked first');
    assert.deepEqual(open0.requests.filter((r) => r.authorization !== undefined), [], 'credentials went to another origin');

    const exported = page.waitForEvent('download');
    await page.click('#export-json');
    const json = (await downloadBytes(await exported)).toString('utf8');
    assert.deepEqual(JSON.parse(json), cfg);
    assert.ok(!json.includes(TOKEN));
    assert.ok(!(await pageText(page, false)).includes(TOKEN), 'the token is in the page’s URL, HTML or storage');

    await page.reload();
    await page.waitForSelector('#config-status[data-valid="true"]');
    assert.ok(!(await pageText(page, true)).includes(TOKEN), 'the token outlived the tab without "remember"');
    assert.match(await buildFails(page), /HTTP 401/);
  });

  test('user and password with “remember” survive a reload and build with one press; unticking forgets them', async () => {
    const { page } = session;
    const priv = await cache(fx.caches.xz, { authorization: `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}` });
    await open(page, config([priv.url]));
    await setCredentials(page, priv.url, { user: 'ci', password: PASSWORD }, true);
    await page.reload();
    await page.waitForSelector('#config-status[data-valid="true"]');
    const row = `#credentials .credential[data-origin="${originOf(priv.url)}"]`;
    assert.equal(await page.inputValue(`${row} input[type="password"]`), PASSWORD);
    const got = await pressAndDownload(session);
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(!(await page.evaluate(() => location.href)).includes(PASSWORD));
    await page.uncheck(`${row} input[type="checkbox"]`);
    assert.ok(!(await page.evaluate(() => JSON.stringify({ ...localStorage }))).includes(PASSWORD), 'unticked but still stored');
  });

  test('NARs redirected to another origin arrive without the credentials', async () => {
    const { page } = session;
    const cdn = await cache(fx.caches.xz);
    const priv = await cache(fx.caches.xz, { authorization: `Bearer ${TOKEN}`, redirectNarsTo: cdn.url });
    await open(page, config([priv.url]));
    await page.click('#clear-cache');
    await page.waitForSelector('#cache-usage[data-entries="0"]');
    await setCredentials(page, priv.url, { token: TOKEN });
    const got = await pressAndDownload(session);
    assert.equal(sha(got.bytes), sha(reference));
    assert.ok(cdn.requests.some((r) => r.path.startsWith('nar/')), 'no NAR came through the redirect');
    assert.deepEqual(cdn.requests.filter((r) => r.authorization !== undefined), [], 'the token followed the redirect to another origin');
  });

  test('a cache whose CORS does not allow the Authorization header: the page says it is a CORS refusal', async () => {
    const { page } = session;
    const priv = await cache(fx.caches.xz, { authorization: `Bearer ${TOKEN}`, allowAuthorizationHeader: false });
    await open(page, config([priv.url]));
    await setCredentials(page, priv.url, { token: TOKEN });
    const text = await buildFails(page);
    assert.match(text, /CORS/);
    assert.match(text, /Access-Control-Allow-Headers: Authorization/);
    assert.ok(!text.includes(TOKEN), text);
    assert.deepEqual(priv.requests.filter((r) => r.authorization !== undefined), [], 'the browser sent the token despite the preflight');
    await screenshot(page, 'private-02-cors');
  });
});
