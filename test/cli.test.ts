import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCache, fixtureConfig, type Fixture } from './helpers/fixtures.ts';
import { run, runCli, sh, ROOT } from './helpers/cli.ts';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-cli-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

const config = (extra: Record<string, unknown> = {}) => fixtureConfig(fx, extra);

async function writeConfig(name: string, cfg: unknown): Promise<string> {
  const p = join(tmp, `${name}.json`);
  await writeFile(p, typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  return p;
}

test('--help documents the build command, every config field and the exit status', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const word of ['build <config.json>', '--output', '--cache-dir', 'substituters', 'trustedPublicKeys', 'requireSigs', 'storeContents', 'contents', 'compression', 'xzPreset', 'squashfsCompression', 'iso', 'Exit status']) {
    assert.ok(r.stdout.includes(word), `--help mentions ${word}`);
  }
  assert.equal((await runCli(['build', '--help'])).code, 0);
});

test('usage errors exit 2 with a hint; no command prints help and exits 2', async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /Usage/);
  const bad = await runCli(['frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  const two = await runCli(['build', 'a.json', 'b.json']);
  assert.equal(two.code, 2);
  const flag = await runCli(['build', 'a.json', '--no-such-flag']);
  assert.equal(flag.code, 2);
});

test('an invalid config exits 1 with one line naming the field, and writes nothing', async () => {
  const out = join(tmp, 'never.tar');
  for (const [cfg, field] of [
    [config({ contents: [{ text: 'x', target: '/../../etc/passwd' }] }), /contents\[0\]\.target/],
    [config({ compression: 'rar' }), /compression/],
    [config({ storeContents: [{ object: '/nix/store/not-a-store-path' }] }), /storeContents\[0\]\.object/],
    ['{ not json', /cannot read config/],
  ] as const) {
    const r = await runCli(['build', await writeConfig('bad', cfg), '--output', out, '--cache-dir', join(tmp, 'cache')]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, field);
  }
  assert.deepEqual((await readdir(tmp)).filter((f) => f.includes('never')), []);
});

test('xz is the tarball default: named like make-system-tarball, valid for xz -t, same tar inside', async () => {
  const dir = join(tmp, 'xz-default');
  await sh('mkdir', ['-p', dir]);
  const cfg = await writeConfig('xz', config());
  const r = await runCli(['build', cfg, '--output', dir, '--cache-dir', join(tmp, 'cache')]);
  assert.equal(r.code, 0, r.stderr);
  const xz = join(dir, 'nixos-system-x86_64-linux.tar.xz');
  await sh('xz', ['-t', xz]);
  const plain = join(tmp, 'plain.tar');
  assert.equal((await runCli(['build', await writeConfig('plain', config({ compression: 'none' })), '-o', plain, '--cache-dir', join(tmp, 'cache')])).code, 0);
  await sh('bash', ['-c', 'xz -dc "$1" | cmp - "$2"', 'x', xz, plain]);
});

test('zstd compression and a zstd-compressed cache: zstd -t passes and the tar matches', async () => {
  const zst = join(tmp, 'out.tar.zst');
  const cfg = await writeConfig('zstd', config({ substituters: [fx.caches.zstd], compression: 'zstd' }));
  const r = await runCli(['build', cfg, '--output', zst, '--cache-dir', join(tmp, 'cache-zstd')]);
  assert.equal(r.code, 0, r.stderr);
  await sh('zstd', ['-q', '-t', zst]);
  const plain = join(tmp, 'plain-none.tar');
  const none = await writeConfig('none', config({ substituters: [fx.caches.none], compression: 'none' }));
  assert.equal((await runCli(['build', none, '-o', plain, '--cache-dir', join(tmp, 'cache-none')])).code, 0);
  await sh('bash', ['-c', 'zstd -dc "$1" | cmp - "$2"', 'x', zst, plain]);
});

test('requireSigs false accepts an unsigned cache', async () => {
  const out = join(tmp, 'unsigned.tar');
  const cfg = await writeConfig('unsigned', config({ substituters: [fx.caches.unsigned], requireSigs: false, compression: 'none' }));
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(tmp, 'cache-unsigned')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await readFile(out)).length > 20 << 20);
});

test('substituters are tried in order: a cache missing everything falls through to the next', async () => {
  const empty = join(tmp, 'empty-cache');
  await sh('mkdir', ['-p', empty]);
  const out = join(tmp, 'fallthrough.tar');
  const cfg = await writeConfig('fallthrough', config({ substituters: [empty, fx.caches.xz], compression: 'none' }));
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(tmp, 'cache-ft')]);
  assert.equal(r.code, 0, r.stderr);
});

test('`npx nix-imager` runs the CLI from the project root', async () => {
  const r = await run('npx', ['--no-install', 'nix-imager', '--help'], { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nix-imager build <config\.json>/);
});
