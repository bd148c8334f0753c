// The fixtures are what they claim: real Nix built and verifies the store and the caches, and
// each hostile cache differs from the good one in exactly the intended way (judged by Nix too).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import * as hostile from './helpers/hostile-cache.ts';
import { nix, nixRun } from './helpers/nix.ts';
import { ROOT, runCli, sh } from './helpers/cli.ts';
import { nix32Encode } from '../core/nix/nix32.ts';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-fixtures-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

const onDisk = (p: string) => fx.storeRoot + p;
const hashPart = (p: string) => p.slice(fx.storeDir.length + 1, fx.storeDir.length + 33);
const sha256Nix32 = (b: Uint8Array) => `sha256:${nix32Encode(createHash('sha256').update(b).digest())}`;

function narInfoFields(text: string): Map<string, string> {
  return new Map(text.trimEnd().split('\n').map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
}

async function narInfo(cache: string, p: string): Promise<Map<string, string>> {
  return narInfoFields(await readFile(join(cache, `${hashPart(p)}.narinfo`), 'utf8'));
}

/** `nix store verify` against a cache: 0 ok, 1 NAR hash mismatch, 2 untrusted, 4 other. */
async function nixVerify(cache: string, paths: string[], trustedKey = fx.publicKey, recursive = false) {
  return nixRun('nix', ['store', 'verify', '--store', `file://${cache}`, '--option', 'trusted-public-keys', trustedKey, ...(recursive ? ['-r'] : []), ...paths]);
}

test('the chroot store verifies with nix-store --verify --check-contents', async () => {
  const r = await nixRun('nix-store', ['--store', fx.storeRoot, '--verify', '--check-contents']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /modified|error|corrupt/i);
});

test('the closure and references are those of a small NixOS-like system', async () => {
  const closure = (await nix('nix-store', ['--store', fx.storeRoot, '-qR', fx.paths.toplevel])).trim().split('\n').sort();
  assert.deepEqual(fx.closure, closure);
  assert.deepEqual([...closure].sort(), Object.values(fx.paths).sort());
  const refs = async (p: string) => (await nix('nix-store', ['--store', fx.storeRoot, '-q', '--references', p])).trim().split('\n').filter(Boolean).sort();
  // app-run names its own path, so app refers to itself too.
  assert.deepEqual(await refs(fx.paths.app), [fx.paths.lib, fx.paths.app].sort());
  assert.deepEqual(await refs(fx.paths.toplevel), [fx.paths.app, fx.paths.etc, fx.paths.kernel, fx.paths.plain].sort());
  for (const leaf of [fx.paths.lib, fx.paths.etc, fx.paths.kernel, fx.paths.plain]) assert.deepEqual(await refs(leaf), [], leaf);
  // The plain path came from nix-store --add: content-addressed, as its CA field says.
  assert.match((await narInfo(fx.caches.xz, fx.paths.plain)).get('CA') ?? '', /^fixed:r:sha256:/);
});

test('fixture-app has the awkward file kinds and names the image writers must handle', async () => {
  const app = onDisk(fx.paths.app);
  assert.equal((await lstat(join(app, 'bin/app-hello'))).mode & 0o7777, 0o555);
  assert.equal(await readFile(join(app, 'bin/app-hello'), 'utf8'), '#!/bin/sh\necho "hello from fixture-app"\n');
  assert.equal(await readlink(join(app, 'bin/hello-rel')), 'app-hello');
  assert.equal(await readlink(join(app, 'share/app/lib-readme-abs')), `${fx.paths.lib}/share/fixture-lib/README`);
  assert.equal(await readlink(join(app, 'lib')), `${fx.paths.lib}/lib`);
  assert.equal(await readlink(join(app, 'share/nested-link')), '../nested');
  assert.ok((await lstat(join(app, 'nested'))).isDirectory());
  assert.ok((await readFile(join(app, 'share/app/lib-path.txt'), 'utf8')).includes(fx.paths.lib));
  assert.equal((await lstat(join(app, 'share/empty'))).size, 0);
  assert.deepEqual(await readdir(join(app, 'share/empty-dir')), []);
  const share = await readdir(join(app, 'share'));
  assert.ok(share.includes('héllo-wörld-日本.txt'));
  assert.ok(share.some((n) => n.length === 200));
  const deep = join(app, 'nested', ...Array.from({ length: 20 }, (_, i) => `d${i + 1}`), 'deep.txt');
  assert.equal(await readFile(deep, 'utf8'), 'twenty levels down\n');
  // Byte order and locale order disagree on these.
  const names = (await readdir(join(app, 'names'))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(names, ['0', 'A', 'B', 'Z', '_x', 'a', 'a-b', 'a.b', 'z', 'ä']);
});

test('fixture-lib holds a 20 MiB file xz cannot shrink, and the toplevel looks like a system', async () => {
  assert.equal((await lstat(join(onDisk(fx.paths.lib), 'lib/libfixture.so.1.0'))).size, 20 << 20);
  const info = await narInfo(fx.caches.xz, fx.paths.lib);
  assert.ok(Number(info.get('FileSize')) > 0.99 * Number(info.get('NarSize')), 'xz cannot compress it');
  const top = onDisk(fx.paths.toplevel);
  assert.equal(await readlink(join(top, 'sw')), fx.paths.app);
  assert.equal(await readlink(join(top, 'etc')), `${fx.paths.etc}/etc`);
  assert.equal((await lstat(join(top, 'init'))).mode & 0o777, 0o555);
  assert.match(await readFile(join(onDisk(fx.paths.etc), 'etc/os-release'), 'utf8'), /^ID=nixos$/m);
  const bz = await readFile(join(onDisk(fx.paths.kernel), 'bzImage'));
  assert.equal(bz.subarray(514, 518).toString('latin1'), 'HdrS');
  assert.ok((await lstat(join(onDisk(fx.paths.kernel), 'initrd'))).size > 0);
});

for (const [name, compression, signed] of [
  ['xz', 'xz', true],
  ['none', 'none', true],
  ['zstd', 'zstd', true],
  ['unsigned', 'xz', false],
] as const) {
  test(`cache-${name}: one narinfo per closure path, ${compression}, ${signed ? 'trusted by Nix' : 'untrusted by Nix'}`, async () => {
    const cache = fx.caches[name];
    assert.equal(await readFile(join(cache, 'nix-cache-info'), 'utf8'), 'StoreDir: /nix/store\n');
    const narinfos = (await readdir(cache)).filter((f) => f.endsWith('.narinfo')).sort();
    assert.deepEqual(narinfos, fx.closure.map((p) => `${hashPart(p)}.narinfo`).sort());
    for (const p of fx.closure) {
      const info = await narInfo(cache, p);
      assert.equal(info.get('Compression'), compression);
      assert.equal(info.get('Sig')?.startsWith('fixture-1:') ?? false, signed, `Sig of ${p}`);
      const file = await readFile(join(cache, info.get('URL')!));
      assert.equal(info.get('FileHash'), sha256Nix32(file));
    }
    const r = await nixVerify(cache, [fx.paths.toplevel], fx.publicKey, true);
    assert.equal(r.code, signed ? 0 : 2, r.stderr);
  });
}

interface CacheDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

async function files(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

async function diffCaches(good: string, bad: string): Promise<CacheDiff> {
  const [a, b] = [await files(good), await files(bad)];
  return {
    added: [...b.keys()].filter((k) => !a.has(k)).sort(),
    removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
    changed: [...a.keys()].filter((k) => b.has(k) && !a.get(k)!.equals(b.get(k)!)).sort(),
  };
}

/** The narinfo keys whose values differ (or exist on one side only). */
function changedFields(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

const narInfoName = (p: string) => `${hashPart(p)}.narinfo`;

test('corruptNarFile and truncateNarFile break only lib\'s NAR file, and Nix fails to read it', async () => {
  const narFile = (await narInfo(fx.caches.xz, fx.paths.lib)).get('URL')!;
  const good = await readFile(join(fx.caches.xz, narFile));
  for (const make of [hostile.corruptNarFile, hostile.truncateNarFile]) {
    const { dir, storePath } = await make(fx);
    assert.equal(storePath, fx.paths.lib);
    assert.deepEqual(await diffCaches(fx.caches.xz, dir), { added: [], removed: [], changed: [narFile] });
    const bad = await readFile(join(dir, narFile));
    if (make === hostile.corruptNarFile) {
      assert.equal(bad.length, good.length);
      assert.equal([...bad].filter((x, i) => x !== good[i]).length, 1, 'one byte differs');
    } else {
      assert.deepEqual(bad, good.subarray(0, good.length >> 1));
    }
    const r = await nixVerify(dir, [storePath]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Lzma|compressed data/);
  }
});

test('narinfo edits change only the intended fields, and Nix judges each as intended', async () => {
  const cases = [
    { make: hostile.lieAboutNarHash, fields: ['NarHash', 'Sig'], nixCode: 1, nixSays: /was modified/ },
    { make: hostile.badSignature, fields: ['Sig'], nixCode: 2, nixSays: /untrusted/ },
    { make: hostile.signWithOtherKey, fields: ['Sig'], nixCode: 2, nixSays: /untrusted/ },
    { make: hostile.removeSignatures, fields: ['Sig'], nixCode: 2, nixSays: /untrusted/ },
    { make: hostile.malformedNarInfo, fields: ['NarSize'], nixCode: 1, nixSays: /corrupt/ },
  ];
  for (const { make, fields, nixCode, nixSays } of cases) {
    const { dir, storePath } = await make(fx);
    assert.equal(storePath, fx.paths.app, make.name);
    assert.deepEqual(await diffCaches(fx.caches.xz, dir), { added: [], removed: [], changed: [narInfoName(storePath)] }, make.name);
    const [good, bad] = [await narInfo(fx.caches.xz, storePath), await narInfo(dir, storePath)];
    assert.deepEqual(changedFields(good, bad), fields, make.name);
    const r = await nixVerify(dir, [storePath]);
    assert.equal(r.code, nixCode, `${make.name}: ${r.stderr}`);
    assert.match(r.stderr, nixSays, make.name);
  }
  // The other key's signature is valid: Nix trusts it once other-1 is the trusted key.
  const other = await hostile.signWithOtherKey(fx);
  assert.match((await narInfo(other.dir, other.storePath)).get('Sig')!, /^other-1:/);
  assert.equal((await nixVerify(other.dir, [other.storePath], fx.otherPublicKey)).code, 0);
  const unsigned = await hostile.removeSignatures(fx);
  assert.equal((await narInfo(unsigned.dir, unsigned.storePath)).has('Sig'), false);
});

test('deleteNarInfo removes only app\'s narinfo, and Nix cannot find the path', async () => {
  const { dir, storePath } = await hostile.deleteNarInfo(fx);
  assert.deepEqual(await diffCaches(fx.caches.xz, dir), { added: [], removed: [narInfoName(storePath)], changed: [] });
  const r = await nixVerify(dir, [storePath]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is not valid/);
});

test('dotDotUrl moves the NAR out of the cache and re-signs: Nix follows ../ and accepts it', async () => {
  const { dir, storePath } = await hostile.dotDotUrl(fx);
  const url = (await narInfo(fx.caches.xz, storePath)).get('URL')!;
  assert.deepEqual(await diffCaches(fx.caches.xz, dir), { added: [], removed: [url], changed: [narInfoName(storePath)] });
  const bad = await narInfo(dir, storePath);
  // The URL is not part of the signed fingerprint: the re-signed Sig is the same as before.
  assert.deepEqual(changedFields(await narInfo(fx.caches.xz, storePath), bad), ['URL']);
  assert.equal(bad.get('URL'), `../${url.slice('nar/'.length)}`);
  assert.deepEqual(await readFile(join(dir, bad.get('URL')!)), await readFile(join(fx.caches.xz, url)));
  const r = await nixVerify(dir, [storePath]);
  assert.equal(r.code, 0, r.stderr);
});

// Nix 2.8's restore lets these two through; the restored tree then dumps to other bytes.
const NIX_RESTORE_ACCEPTS = new Set(['unsorted', 'trailing-bytes']);
const NIX_RESTORE_SAYS: Record<string, RegExp> = {
  'dotdot-name': /invalid file name '\.\.'/,
  'slash-name': /invalid file name 'os\/release'/,
  'nul-name': /invalid file name 'os\0release'/,
  'empty-name': /invalid file name ''/,
  duplicate: /File exists/,
  'bad-magic': /doesn't look like a Nix archive/,
  'bad-padding': /non-zero padding/,
};

for (const kind of hostile.HOSTILE_NAR_KINDS) {
  test(`hostileNar(${kind}): correct hashes, valid signature, and a NAR real Nix does not take as is`, async () => {
    const { dir, storePath } = await hostile.hostileNar(fx, kind);
    assert.equal(storePath, fx.paths.etc);
    const good = await narInfo(fx.caches.xz, storePath);
    const bad = await narInfo(dir, storePath);
    const diff = await diffCaches(fx.caches.xz, dir);
    assert.deepEqual(diff, { added: [bad.get('URL')!], removed: [good.get('URL')!], changed: [narInfoName(storePath)] });
    assert.deepEqual(changedFields(good, bad), ['FileHash', 'FileSize', 'NarHash', 'NarSize', 'Sig', 'URL']);

    const compressed = await readFile(join(dir, bad.get('URL')!));
    assert.equal(bad.get('FileHash'), sha256Nix32(compressed));
    assert.equal(bad.get('FileSize'), String(compressed.length));
    const nar = execFileSync('xz', ['-dc'], { input: compressed });
    assert.deepEqual(new Uint8Array(nar), hostile.hostileNarBytes(kind));
    assert.equal(bad.get('NarHash'), sha256Nix32(nar));
    assert.equal(bad.get('NarSize'), String(nar.length));
    // Nix's own check of a cache: the signature is trusted and the NAR hashes to NarHash.
    const verified = await nixVerify(dir, [storePath]);
    assert.equal(verified.code, 0, verified.stderr);

    const out = join(tmp, `restore-${kind}`);
    const restored = await nixRun('nix-store', ['--restore', out], nar);
    if (NIX_RESTORE_ACCEPTS.has(kind)) {
      assert.equal(restored.code, 0, restored.stderr);
      const redump = execFileSync('nix-store', ['--dump', out], { maxBuffer: 1 << 20 });
      assert.notDeepEqual(new Uint8Array(redump), new Uint8Array(nar), 'the canonical NAR of the restored tree differs');
    } else {
      assert.notEqual(restored.code, 0, `nix-store --restore accepted the ${kind} NAR`);
      assert.match(restored.stderr, NIX_RESTORE_SAYS[kind]!);
    }
  });
}

const DEMO_CACHE = join(ROOT, 'public/demo-cache');

interface DemoConfig {
  substituters: string[];
  trustedPublicKeys: string[];
  storeContents: { object: string; symlink: string }[];
}

test('the embedded demo cache is small, signed by the key examples/demo.json trusts, and whole', async () => {
  const demo = JSON.parse(await readFile(join(ROOT, 'examples/demo.json'), 'utf8')) as DemoConfig;
  assert.deepEqual(demo.substituters, ['../public/demo-cache']);
  const pub = (await readFile(join(DEMO_CACHE, 'nix-imager-demo-1.pub'), 'utf8')).trim();
  assert.deepEqual(demo.trustedPublicKeys, [pub]);
  const all = await files(DEMO_CACHE);
  assert.ok([...all.values()].reduce((n, b) => n + b.length, 0) < 1 << 20, 'well under 1 MB');
  assert.ok(![...all.keys()].some((f) => f.endsWith('.sec')), 'no secret key is published');
  const top = demo.storeContents[0]!.object;
  const r = await nixVerify(DEMO_CACHE, [top], pub, true);
  assert.equal(r.code, 0, r.stderr);
  const narinfos = [...all.keys()].filter((f) => f.endsWith('.narinfo'));
  assert.equal(narinfos.length, 3, 'toplevel, hello, etc');
  for (const f of narinfos) assert.match(all.get(f)!.toString(), /^Compression: xz$/m);
});

test('the CLI builds examples/demo.json (a relative substituter) into a tarball GNU tar reads', async () => {
  const demo = JSON.parse(await readFile(join(ROOT, 'examples/demo.json'), 'utf8')) as DemoConfig;
  const top = demo.storeContents[0]!.object;
  const out = join(tmp, 'demo.tar');
  const r = await runCli(['build', join(ROOT, 'examples/demo.json'), '--output', out, '--cache-dir', join(tmp, 'demo-nar-cache')], { cwd: tmp });
  assert.equal(r.code, 0, r.stderr);
  const listing = await sh('tar', ['-tvf', out]);
  assert.match(listing, new RegExp(`run/current-system -> ${top}$`, 'm'));
  const root = join(tmp, 'demo-root');
  await sh('mkdir', ['-p', root]);
  await sh('tar', ['-xf', out, '-C', root]);
  assert.equal(await readFile(join(root, 'etc/nixos-version-demo'), 'utf8'), 'demo');
  const hello = join(root, await readlink(join(root, top.slice(1), 'sw')), 'bin/hello');
  assert.equal((await lstat(hello)).mode & 0o777, 0o555);
  assert.equal(await sh('sh', [hello]), 'Hello from the nix-imager demo system!\n');
});
