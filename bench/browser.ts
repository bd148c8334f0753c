// Browser vs CLI (by hand: `node --import tsx bench/browser.ts [MB]`, default 64 MB).
// Input: one store path holding MB megabytes of /usr/lib/x86_64-linux-gnu files, added with real Nix
// to a chroot store and copied to a signed, uncompressed binary cache (cached in test-artifacts/).
// The same tarball.xz (xz -6) is built by the CLI and by the web app in headless Chromium, both over
// HTTP from the same 127.0.0.1 server with empty NAR caches; prints wall times, their ratio, the
// peak RSS of the whole Chromium process tree, and checks the two outputs are identical.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeConfigFragment } from '../web/config-url.ts';
import { downloadBytes, openBrowser, serveWebApp } from '../test/helpers/browser.ts';
import { serveCache } from '../test/helpers/cache-server.ts';
import { ROOT, runCli } from '../test/helpers/cli.ts';
import { NIX_ENV } from '../test/helpers/nix.ts';

const MB = 1e6;
const size = Number(process.argv[2] ?? 64) * MB;
const work = join(ROOT, 'test-artifacts', `bench-browser-${size / MB}MB`);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...NIX_ENV }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A signed binary cache with one store path of about `size` bytes of shared libraries. */
function benchCache(): { cache: string; storePath: string; publicKey: string } {
  const stamp = join(work, 'done.json');
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8'));
  rmSync(work, { recursive: true, force: true });
  const data = join(work, 'libs');
  mkdirSync(data, { recursive: true });
  const lib = '/usr/lib/x86_64-linux-gnu';
  let total = 0;
  for (const name of readdirSync(lib).sort()) {
    const p = join(lib, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st?.isFile() || total + st.size > size) continue;
    copyFileSync(p, join(data, name));
    total += st.size;
  }
  const store = join(work, 'store');
  const storePath = sh('nix-store', ['--store', store, '--add', data]);
  sh('nix-store', ['--generate-binary-cache-key', 'bench-1', join(work, 'sec'), join(work, 'pub')]);
  const cache = join(work, 'cache');
  sh('nix', ['copy', '--store', store, '--to', `file://${cache}?compression=none&secret-key=${join(work, 'sec')}`, storePath]);
  const made = { cache, storePath, publicKey: readFileSync(join(work, 'pub'), 'utf8').trim() };
  writeFileSync(stamp, JSON.stringify(made));
  return made;
}

/** Sum of the RSS of every descendant process of this one (Chromium's browser, renderer, GPU, utility…). */
function descendantsRss(): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
      rss.set(Number(d), Number(fields[21]) * 4096);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [...(children.get(process.pid) ?? [])];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

const { cache: cacheDir, storePath, publicKey } = benchCache();
const server = await serveCache(cacheDir);
const app = await serveWebApp();
const tmp = mkdtempSync(join(tmpdir(), 'bench-browser-'));
const config = {
  format: 'tarball' as const,
  compression: 'xz' as const,
  substituters: [server.url],
  trustedPublicKeys: [publicKey],
  storeContents: [{ object: storePath, symlink: '/run/current-system' }],
};
try {
  writeFileSync(join(tmp, 'cfg.json'), JSON.stringify(config));
  let t = performance.now();
  const cli = await runCli(['build', join(tmp, 'cfg.json'), '--output', join(tmp, 'cli.tar.xz'), '--cache-dir', join(tmp, 'cache'), '--quiet']);
  const cliSeconds = (performance.now() - t) / 1000;
  if (cli.code !== 0) throw new Error(`CLI failed: ${cli.stderr}`);

  const session = await openBrowser();
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, descendantsRss())), 200);
  try {
    await session.page.goto(app.url + encodeConfigFragment(config));
    await session.page.waitForSelector('#config-status[data-valid="true"]');
    const idle = descendantsRss();
    const download = session.page.waitForEvent('download', { timeout: 30 * 60_000 });
    t = performance.now();
    await session.page.click('#build');
    const bytes = await downloadBytes(await download);
    const browserSeconds = (performance.now() - t) / 1000;
    const cliBytes = readFileSync(join(tmp, 'cli.tar.xz'));
    const same = createHash('sha256').update(bytes).digest('hex') === createHash('sha256').update(cliBytes).digest('hex');
    const input = readdirSync(join(cacheDir, 'nar')).reduce((n, f) => n + statSync(join(cacheDir, 'nar', f)).size, 0);
    console.log(`input: ${(input / MB).toFixed(1)} MB NAR → ${(bytes.length / MB).toFixed(1)} MB tar.xz (xz -6)`);
    console.log(`CLI:      ${cliSeconds.toFixed(1)} s`);
    console.log(`Chromium: ${browserSeconds.toFixed(1)} s  (browser/CLI time ratio ${(browserSeconds / cliSeconds).toFixed(2)})`);
    console.log(`Chromium peak RSS (all processes): ${(peak / 2 ** 20).toFixed(0)} MiB (idle page: ${(idle / 2 ** 20).toFixed(0)} MiB)`);
    console.log(`outputs identical: ${same ? 'yes' : 'NO'}`);
    console.log(
      'BENCH-JSON ' +
        JSON.stringify({ bench: 'browser', inputMB: input / MB, outputMB: bytes.length / MB, cliSeconds, browserSeconds, ratio: browserSeconds / cliSeconds, browserPeakRssMiB: peak / 2 ** 20, identical: same }),
    );
    if (!same) process.exitCode = 1;
  } finally {
    clearInterval(poll);
    await session.close();
  }
} finally {
  await server.close();
  await app.stop();
  rmSync(tmp, { recursive: true, force: true });
}
