// The browser app builds a live ISO and netboot files from a NixOS toplevel alone, byte for byte
// what the CLI writes for the same config (headless Chromium, the NixOS-like fixture's cache served
// on 127.0.0.1); xorriso reads the browser's ISO.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeConfigFragment } from '../web/config-url.ts';
import type { ConfigJson } from '../web/config-draft.ts';
import { openBrowser, openLink, pressAndDownload, serveWebApp, type BrowserSession, type WebApp } from './helpers/browser.ts';
import { serveCache, type CacheServer } from './helpers/cache-server.ts';
import { runCli, sh } from './helpers/cli.ts';
import { nixosFixture, type NixosFixture } from './helpers/nixos-fixture.ts';

let fx: NixosFixture;
let app: WebApp;
let cache: CacheServer;
let session: BrowserSession;
let tmp: string;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function cliBuild(config: ConfigJson, name: string): Promise<Buffer> {
  const cfg = join(tmp, `${name}.json`);
  await writeFile(cfg, JSON.stringify({ ...config, substituters: [fx.cache] }));
  const r = await runCli(['build', cfg, '--output', join(tmp, name), '--cache-dir', join(tmp, 'cli-cache'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  return readFile(join(tmp, name));
}

async function browserBuild(config: ConfigJson): Promise<{ name: string; bytes: Buffer }> {
  await openLink(session.page, app.url + encodeConfigFragment(config));
  if (await session.page.isVisible('#trust-only')) await session.page.click('#trust-only');
  return pressAndDownload(session);
}

describe('a toplevel in the browser app (headless Chromium)', { timeout: 900_000 }, () => {
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nix-imager-e2e-live-'));
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

  const config = (format: 'iso' | 'netboot'): ConfigJson => ({ format, toplevel: fx.paths.live, substituters: [cache.url], trustedPublicKeys: [fx.publicKey] });

  test('the live ISO equals the CLI output', async () => {
    const got = await browserBuild(config('iso'));
    assert.equal(got.name, 'nixos-x86_64-linux.iso');
    assert.equal(sha(got.bytes), sha(await cliBuild(config('iso'), 'cli.iso')));
    await writeFile(join(tmp, 'browser.iso'), got.bytes);
    assert.match(await sh('xorriso', ['-indev', join(tmp, 'browser.iso'), '-report_el_torito', 'plain']), /El Torito img path :\s+2\s+\/boot\/efi\.img/);
  });

  test('the netboot tarball equals the CLI output', async () => {
    const got = await browserBuild(config('netboot'));
    assert.equal(got.name, 'netboot-x86_64-linux.tar');
    assert.equal(sha(got.bytes), sha(await cliBuild(config('netboot'), 'cli-netboot.tar')));
  });
});
