// Issue 21: private caches. Servers on 127.0.0.1 that demand HTTP Basic auth (netrc) or a bearer
// token; the CLI must get in with the credentials, fail fast and clearly without them, never
// carry them to another host on a redirect, and never print them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheAuthError, getWithRetry, type Fetch } from '../core/cache/http.ts';
import { runCli, type Run } from './helpers/cli.ts';
import { craftedCache, craftedConfig, smallNar, type CraftedCache } from './helpers/crafted-cache.ts';
import { serveWithFaults, type FaultRule, type FaultServer } from './helpers/fault-server.ts';

const LOGIN = 'ci-bot';
const PASSWORD = 'pa55-Basic-s3cret-7f3a';
const TOKEN = 'tok-Bearer-s3cret-91c4e';
const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

let tmp: string;
let home: string;
let cache: CraftedCache;
let reference: Buffer;
const runs: Run[] = [];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-private-'));
  // No ~/.netrc of the user running the tests may count.
  home = join(tmp, 'home');
  await mkdir(home);
  cache = await craftedCache({ nar: smallNar('private '.repeat(5000)), name: 'private' });
  const open = await build(undefined, []);
  assert.equal(open.r.code, 0, open.r.stderr);
  reference = await readFile(open.out);
});
after(async () => {
  for (const r of runs) {
    for (const secret of [PASSWORD, TOKEN, 'wrong-password-1234']) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `a secret was printed: ${r.stderr}`);
    }
  }
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;

/** Builds the cache's path from `server` (or the open file cache); `env` on top of a HOME with nothing in it. */
async function build(server: FaultServer | undefined, flags: string[], env: Record<string, string> = {}) {
  const dir = join(tmp, `run-${++n}`);
  await mkdir(dir);
  const cfg = join(dir, 'config.json');
  await writeFile(cfg, JSON.stringify(craftedConfig({ ...cache, url: server?.url ?? cache.url })));
  const out = join(dir, 'out.tar');
  const t = performance.now();
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet', ...flags], { env: { HOME: home, NIX_IMAGER_NETRC: '', ...env } });
  runs.push(r);
  return { r, ms: performance.now() - t, out, dir };
}

async function withServer<T>(auth: string[], rules: FaultRule[], fn: (s: FaultServer) => Promise<T>): Promise<T> {
  const server = await serveWithFaults(cache.dir, { auth, rules });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

async function netrc(text: string): Promise<string> {
  const file = join(tmp, `netrc-${++n}`);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

async function expectSameBytes(run: { r: Run; out: string }): Promise<void> {
  assert.equal(run.r.code, 0, run.r.stderr);
  assert.ok((await readFile(run.out)).equals(reference), 'the same bytes as from the open cache');
}

async function expectRefused(run: { r: Run; ms: number; dir: string }, server: FaultServer, status: number, why: RegExp): Promise<void> {
  assert.equal(run.r.code, 1, run.r.stderr);
  const lines = run.r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.r.stderr);
  assert.ok(lines[0]!.includes(server.url.replace(/\/$/, '')), `names the cache URL: ${lines[0]}`);
  assert.ok(lines[0]!.includes(`HTTP ${status}`), `names the status: ${lines[0]}`);
  assert.match(lines[0]!, why);
  assert.ok(run.ms < 10_000, `quick: ${run.ms} ms`);
  assert.equal(server.requests.length, 1, 'not retried');
  assert.deepEqual((await readdir(run.dir)).filter((f) => f !== 'config.json' && f !== 'cache'), [], 'no output');
}

test('Basic auth: without credentials one quick line says which setting to use; with netrc (flag, variable, ~/.netrc) the same bytes', () =>
  withServer([basic(LOGIN, PASSWORD)], [], async (s) => {
    await expectRefused(await build(s, []), s, 401, /wants credentials for 127\.0\.0\.1.*--netrc-file.*--token 127\.0\.0\.1=/);
    s.requests.splice(0);
    const file = await netrc(`# CI cache\nmachine other.example password nope\nmachine 127.0.0.1\n  login ${LOGIN}\n  password ${PASSWORD}\n`);
    await expectSameBytes(await build(s, ['--netrc-file', file]));
    await expectSameBytes(await build(s, [], { NIX_IMAGER_NETRC: file }));
    await writeFile(join(home, '.netrc'), await readFile(file));
    try {
      await expectSameBytes(await build(s, []));
    } finally {
      await rm(join(home, '.netrc'));
    }
    assert.ok(s.requests.every((q) => q.authorization === basic(LOGIN, PASSWORD)), 'every request carried the credentials');
  }));

test('Basic auth: wrong credentials are a 403 naming the cache, not retried, the password not shown', () =>
  withServer([basic(LOGIN, PASSWORD)], [], async (s) => {
    const file = await netrc(`machine 127.0.0.1 login ${LOGIN} password wrong-password-1234\n`);
    await expectRefused(await build(s, ['--netrc-file', file]), s, 403, /refused the credentials given for 127\.0\.0\.1/);
  }));

test('Bearer token: --token HOST=TOKEN and $NIX_IMAGER_TOKEN_<HOST> give the same bytes; without, a quick 401', () =>
  withServer([`Bearer ${TOKEN}`], [], async (s) => {
    await expectRefused(await build(s, []), s, 401, /NIX_IMAGER_TOKEN_127_0_0_1/);
    await expectSameBytes(await build(s, ['--token', `127.0.0.1=${TOKEN}`]));
    await expectSameBytes(await build(s, [], { NIX_IMAGER_TOKEN_127_0_0_1: TOKEN }));
    // A token for another host is not sent here.
    const other = await build(s, ['--token', `cache.example.org=${TOKEN}`]);
    assert.equal(other.r.code, 1);
  }));

test('a redirect to another host does not carry the credentials', async () => {
  const mirror = await serveWithFaults(cache.dir);
  try {
    const elsewhere = mirror.url.replace('127.0.0.1', 'localhost');
    await withServer([basic(LOGIN, PASSWORD), `Bearer ${TOKEN}`], [{ match: 'nar/', redirectTo: elsewhere }], async (s) => {
      const file = await netrc(`machine 127.0.0.1 login ${LOGIN} password ${PASSWORD}\nmachine localhost login ${LOGIN} password ${PASSWORD}-not-for-redirects\n`);
      await expectSameBytes(await build(s, ['--netrc-file', file]));
      await expectSameBytes(await build(s, ['--token', `127.0.0.1=${TOKEN}`]));
      assert.ok(s.requestsFor('nar/').length === 2, 'the NAR was redirected');
      const redirected = mirror.requestsFor('nar/');
      assert.equal(redirected.length, 2, 'and fetched from the other host');
      assert.deepEqual(redirected.map((q) => q.authorization), [undefined, undefined], 'without credentials');
    });
  } finally {
    await mirror.close();
  }
});

test('--help documents the credentials settings and holds no secret-looking example', async () => {
  const r = await runCli(['--help']);
  runs.push(r);
  for (const word of ['--netrc-file', 'NIX_IMAGER_NETRC', '/etc/nix/netrc', '~/.netrc', '--token', 'NIX_IMAGER_TOKEN_']) assert.ok(r.stdout.includes(word), word);
});

test('a refusal thrown by the platform fetch (the page names CORS and credential refusals so) is not retried', async () => {
  let calls = 0;
  const refusing: Fetch = async (url) => {
    calls++;
    throw new CacheAuthError(`HTTP 401 for ${url}: the cache wants credentials`, url, 401);
  };
  await assert.rejects(getWithRetry(refusing, 'https://cache.example/nix-cache-info', { backoffMs: 1 }), CacheAuthError);
  assert.equal(calls, 1);
});
