// Issue 16 in the page: the hostile caches of test/reliability.test.ts against the browser's
// pipeline (the same core code, through the page's fetch and OPFS), in headless Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ConfigJson } from '../web/config-draft.ts';
import { encodeConfigFragment } from '../web/config-url.ts';
import { BUILD_TIMEOUT, openBrowser, openLink, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { craftedCache, craftedConfig, smallNar, type CraftedCache } from './helpers/crafted-cache.ts';
import { serveWithFaults, type FaultRule, type FaultServer } from './helpers/fault-server.ts';
import { writeNar } from './helpers/nar-builder.ts';

let app: WebApp;
const servers: FaultServer[] = [];

async function served(cache: CraftedCache, rules: FaultRule[] = []): Promise<ConfigJson> {
  const s = await serveWithFaults(cache.dir, { rules, cors: true });
  servers.push(s);
  return craftedConfig({ ...cache, url: s.url }) as unknown as ConfigJson;
}

async function build(config: ConfigJson): Promise<{ page: Page; session: BrowserSession; state: string; message: string; ms: number }> {
  const session = await openBrowser();
  const page = session.page;
  await openLink(page, app.url + encodeConfigFragment(config));
  if (await page.isVisible('#trust-only')) await page.click('#trust-only');
  const t = performance.now();
  await page.click('#build');
  await page.waitForSelector('body[data-state="failed"], body[data-state="done"]', { timeout: BUILD_TIMEOUT });
  const state = (await page.getAttribute('body', 'data-state')) ?? '';
  const message = state === 'failed' ? ((await page.textContent('#result .card.error')) ?? '') : '';
  return { page, session, state, message, ms: performance.now() - t };
}

describe('hostile caches in the page (headless Chromium)', { timeout: 600_000 }, () => {
  before(async () => {
    app = await serveWebApp();
  });
  after(async () => {
    for (const s of servers) await s.close();
    await app?.stop();
  });

  test('a narinfo without end is refused at the size cap, quickly, naming the store path', async () => {
    const cache = await craftedCache();
    const r = await build(await served(cache, [{ match: '.narinfo', endless: true }]));
    try {
      assert.equal(r.state, 'failed');
      assert.match(r.message, /larger than \d+ bytes/);
      assert.ok(r.message.includes(cache.storePath), r.message);
      assert.ok(r.ms < 20_000, `${r.ms} ms`);
    } finally {
      await r.session.close();
    }
  });

  test('bytes without end after the NAR file stop at FileSize: the build succeeds', async () => {
    const nar = smallNar('page '.repeat(20_000));
    const cache = await craftedCache({ nar, file: new Uint8Array(execFileSync('xz', ['-c'], { input: nar })), compression: 'xz' });
    const s = await serveWithFaults(cache.dir, { rules: [{ match: 'nar/', endless: true }], cors: true });
    servers.push(s);
    const r = await build(craftedConfig({ ...cache, url: s.url }) as unknown as ConfigJson);
    try {
      assert.equal(r.state, 'done', r.message);
      const sent = s.requestsFor('nar/').reduce((n, q) => n + q.sent, 0);
      assert.ok(sent < 64 << 20, `the page stopped reading (${sent} bytes sent)`);
    } finally {
      await r.session.close();
    }
  });

  test('an xz bomb is refused one chunk past NarSize, naming the store path', async () => {
    const one = execFileSync('xz', ['-0', '-T1', '-c'], { input: new Uint8Array(16 << 20) });
    const cache = await craftedCache({ file: new Uint8Array(Buffer.concat(Array.from({ length: 64 }, () => one))), compression: 'xz', name: 'bomb' });
    const r = await build(await served(cache));
    try {
      assert.equal(r.state, 'failed');
      assert.match(r.message, /larger than the narinfo's NarSize/);
      assert.ok(r.message.includes(cache.storePath), r.message);
    } finally {
      await r.session.close();
    }
  });

  test('a contents target inside a store path of the closure is a config error', async () => {
    const cache = await craftedCache({ nar: writeNar({ type: 'directory', entries: [['bin', { type: 'directory', entries: [] }]] }), name: 'dir' });
    const config = { ...(await served(cache)), contents: [{ text: 'evil\n', target: `${cache.storePath}/bin/evil` }] };
    const r = await build(config);
    try {
      assert.equal(r.state, 'failed');
      assert.ok(r.message.includes(`is inside ${cache.storePath}`), r.message);
    } finally {
      await r.session.close();
    }
  });
});
