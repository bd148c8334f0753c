import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCache, fixtureConfig, type Fixture } from './helpers/fixtures.ts';
import { runCli, sh } from './helpers/cli.ts';
import { nix, NIX_ENV } from './helpers/nix.ts';
import { referenceSystemTarball } from './helpers/make-system-tarball.ts';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-tarball-'));
  await writeFile(join(tmp, 'motd'), 'Welcome to the fixture system.\n');
  await chmod(join(tmp, 'motd'), 0o640);
});
after(() => rm(tmp, { recursive: true, force: true }));

function config(extra: Record<string, unknown> = {}) {
  return fixtureConfig(fx, {
    contents: [
      { source: `${fx.paths.kernel}/bzImage`, target: '/boot/bzImage' },
      { text: '24.05-fixture', target: '/etc/nixos-version' },
      { source: './motd', target: '/etc/motd' },
    ],
    compression: 'none',
    ...extra,
  });
}

async function build(name: string, cfg: object, cacheDir = join(tmp, 'nar-cache')) {
  const cfgPath = join(tmp, `${name}.json`);
  await writeFile(cfgPath, JSON.stringify(cfg));
  const out = join(tmp, name);
  const r = await runCli(['build', cfgPath, '--output', out, '--cache-dir', cacheDir]);
  assert.equal(r.code, 0, `CLI failed: ${r.stderr}`);
  return out;
}

/** make-system-tarball.sh's tree for config(): the contents, then the /run/current-system symlink. */
function referenceTar(): Promise<string> {
  const contents = `
    mkdir -p boot; cp -a "$store${fx.paths.kernel}/bzImage" boot/bzImage
    mkdir -p etc; printf '%s' '24.05-fixture' > etc/nixos-version; chmod 0444 etc/nixos-version
    cp -a '${join(tmp, 'motd')}' etc/motd
    mkdir -p run; ln -s "$top" run/current-system`;
  return referenceSystemTarball(fx.storeRoot, fx.paths.toplevel, join(tmp, 'ref-tree'), join(tmp, 'reference.tar'), contents);
}

test('the tarball is byte-identical to GNU tar over the tree make-system-tarball.sh builds', async () => {
  const ours = await build('system.tar', config());
  const ref = await referenceTar();
  const [a, b] = await Promise.all([readFile(ours), readFile(ref)]);
  assert.equal(a.length, b.length, 'tar sizes differ');
  assert.ok(a.equals(b), 'tar bytes differ from GNU tar');
});

test('the extracted tarball loads into a real Nix store and verifies', async () => {
  const ours = await build('system-verify.tar', config());
  const root = join(tmp, 'root');
  await rm(root, { recursive: true, force: true });
  await sh('mkdir', ['-p', root]);
  await sh('tar', ['-xpf', ours, '-C', root]);
  const registration = await readFile(join(root, 'nix-path-registration'));
  await nix('nix-store', ['--store', root, '--load-db'], registration);
  await nix('nix-store', ['--store', root, '--verify', '--check-contents']);
  const closure = (await nix('nix-store', ['--store', root, '-qR', fx.paths.toplevel])).trim().split('\n').sort();
  assert.deepEqual(closure, [...fx.closure].sort());
  for (const p of closure) {
    const dumped = await sh('bash', ['-c', 'set -o pipefail; nix-store --dump "$1$2" | wc -c', 'x', root, p], { env: NIX_ENV });
    const expected = (await nix('nix-store', ['--store', fx.storeRoot, '-q', '--size', p])).trim();
    assert.equal(dumped.trim(), expected, `narSize of ${p}`);
  }
  assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'Welcome to the fixture system.\n');
});

test('gzip compression: gzip -t passes and decompresses to the same tar', async () => {
  const plain = await build('system-plain.tar', config());
  const gz = await build('system.tar.gz', config({ compression: 'gzip' }));
  await sh('gzip', ['-t', gz]);
  await sh('bash', ['-c', 'gzip -dc "$1" | cmp - "$2"', 'x', gz, plain]);
});

test('a second build downloads nothing: the verified NAR cache serves every NAR', async () => {
  const cacheDir = join(tmp, 'second-cache');
  const substituter = join(tmp, 'cache-copy');
  await sh('cp', ['-a', fx.caches.xz, substituter]);
  await build('first.tar', config({ substituters: [substituter] }), cacheDir);
  const entries = (await readdir(join(cacheDir, 'nar'))).sort();
  assert.ok(entries.filter((e) => e.endsWith('.nar')).length >= fx.closure.length, 'every NAR is cached');
  assert.ok(entries.every((e) => /^[0-9a-z]{52}\.(nar|ok)$/.test(e)), `only final entries and their verification records: ${entries.join(' ')}`);
  // Without the NAR files on the substituter, only the cache can supply them.
  await rm(join(substituter, 'nar'), { recursive: true });
  const out = await build('second.tar', config({ substituters: [substituter] }), cacheDir);
  assert.ok((await readFile(out)).equals(await readFile(join(tmp, 'first.tar'))));
});
