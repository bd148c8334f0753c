import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Download, type Page } from 'playwright-core';
// @ts-expect-error: plain .mjs script without type declarations
import { createStaticServer, listen } from '../../scripts/serve.mjs';
// @ts-expect-error: plain .mjs script without type declarations
import { buildWebIfStale } from '../../scripts/start.mjs';
import { ROOT } from './cli.ts';
import { closeServer } from './cache-server.ts';

export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');

export const BUILD_TIMEOUT = 120_000;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface WebApp {
  url: string;
  /** Each request the app server answered: its URL path and the bytes of its body. */
  requests: { path: string; bytes: number }[];
  /** Stops serving the app (the installed PWA must then come from its service worker). */
  stop(): Promise<void>;
}

/** Builds the web app if its sources changed (vite build → dist-web/) and serves it on 127.0.0.1. */
export async function serveWebApp(): Promise<WebApp> {
  const root: string = buildWebIfStale(() => {});
  const server: Server = createStaticServer({ root });
  const requests: WebApp['requests'] = [];
  server.on('request', (req, res) => res.on('finish', () => requests.push({ path: req.url ?? '', bytes: Number(res.getHeader('content-length') ?? 0) })));
  const url: string = await listen(server, 0);
  return { url, requests, stop: () => closeServer(server) };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Page console errors and uncaught exceptions, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh profile (fresh OPFS, no service worker), downloads accepted. */
export async function openBrowser(): Promise<BrowserSession> {
  const profile = await mkdtemp(join(tmpdir(), 'nix-imager-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Opens `url` (the app, with a #config= link) as a fresh navigation and waits until the page has read the config. */
export async function openLink(page: Page, url: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForSelector('#config-status[data-valid="true"]');
}

/**
 * Presses `button` (Build, or a button that builds after consent) and returns the file the browser
 * downloaded; a failed build fails at once, with the page's words.
 */
export async function pressAndDownload(session: BrowserSession, button = '#build', page = session.page): Promise<{ name: string; bytes: Buffer }> {
  const download = page.waitForEvent('download', { timeout: BUILD_TIMEOUT });
  // The click handler sets the state to "resolving" before it returns, so a later failure is this build's.
  await page.click(button);
  const failed = page.waitForSelector('body[data-state="failed"], body[data-state="cancelled"]', { timeout: BUILD_TIMEOUT }).then(async () => {
    throw new Error(`the build failed in the page: ${await page.textContent('#result')} (console: ${session.errors.join(' | ')})`);
  });
  failed.catch(() => {});
  const d = await Promise.race([download, failed]);
  await page.waitForSelector('body[data-state="done"]');
  return { name: d.suggestedFilename(), bytes: await downloadBytes(d) };
}

/** Reads a finished download fully. */
export async function downloadBytes(d: Download): Promise<Buffer> {
  return readFile(await d.path());
}

/**
 * Serves a static site, opens it in a fresh browser and waits for the page to set its title to
 * "ready"; close() stops both.
 */
export async function openSite(root: string): Promise<BrowserSession> {
  const server: Server = createStaticServer({ root });
  const url: string = await listen(server, 0);
  const browser = await openBrowser();
  const close = async () => {
    await browser.close();
    await closeServer(server);
  };
  try {
    await browser.page.goto(url);
    await browser.page.waitForFunction(() => document.title === 'ready');
  } catch (e) {
    await close();
    throw e;
  }
  return { ...browser, close };
}
