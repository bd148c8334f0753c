import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import * as hostile from './helpers/hostile-cache.ts';
import { runCli } from './helpers/cli.ts';
import { nix32Encode } from '../core/nix/nix32.ts';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await fixtureCache();
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-bad-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/**
 * Builds from a broken cache and checks the contract: exit 1, one line on stderr naming the store
 * path and the failure, no file at --output (nor a leftover temporary), and nothing in the NAR
 * cache that does not hash to its name.
 */
async function expectFailure(name: string, cache: string, storePath: string, why: RegExp, extra: Record<string, unknown> = {}) {
  const dir = join(tmp, name);
  const cfg = join(dir, 'config.json');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await writeFile(
    cfg,
    JSON.stringify({
      format: 'tarball',
      substituters: [cache],
      trustedPublicKeys: [fx.publicKey],
      storeContents: [{ object: fx.paths.toplevel, symlink: '/run/current-system' }],
      compression: 'none',
      ...extra,
    }),
  );
  const out = join(dir, 'out.tar');
  const narCache = join(dir, 'nar-cache');
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', narCache]);
  assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.ok(lines[0]!.includes(storePath), `stderr names ${storePath}: ${lines[0]}`);
  assert.match(lines[0]!, why);
  assert.deepEqual((await readdir(dir)).filter((f) => f !== 'config.json' && f !== 'nar-cache'), [], 'no output and no temporary left');
  const entries = await readdir(join(narCache, 'nar')).catch(() => [] as string[]);
  for (const e of entries) {
    if (/^[0-9a-z]{52}\.ok$/.test(e)) continue; // a verification record (nar-cache-record.test.ts)
    assert.match(e, /^[0-9a-z]{52}\.nar$/, `no partial entry in the NAR cache: ${e}`);
    const digest = createHash('sha256').update(await readFile(join(narCache, 'nar', e))).digest();
    assert.equal(`${nix32Encode(digest)}.nar`, e, 'every cached NAR hashes to its key');
  }
}

test('a corrupted NAR download is refused (FileHash / xz)', async () => {
  const { dir, storePath } = await hostile.corruptNarFile(fx);
  await expectFailure('corrupt', dir, storePath, /hash|corrupt|xz|decompress/i);
});

test('a truncated NAR download is refused', async () => {
  const { dir, storePath } = await hostile.truncateNarFile(fx);
  await expectFailure('truncated', dir, storePath, /truncat|ended after|decompress|size|hash/i);
});

test('a narinfo whose NarHash lies (validly signed) is refused by the hash check', async () => {
  const { dir, storePath } = await hostile.lieAboutNarHash(fx);
  await expectFailure('narhash', dir, storePath, /NarHash mismatch/);
});

test('a bad signature is refused', async () => {
  const { dir, storePath } = await hostile.badSignature(fx);
  await expectFailure('badsig', dir, storePath, /signature/i);
});

test('a signature by an untrusted key is refused', async () => {
  const { dir, storePath } = await hostile.signWithOtherKey(fx);
  await expectFailure('untrusted', dir, storePath, /untrusted|not trusted|trusted key/i);
});

test('an unsigned path is refused unless requireSigs is false', async () => {
  const { dir, storePath } = await hostile.removeSignatures(fx);
  await expectFailure('unsigned', dir, storePath, /signature/i);
});

test('a missing path (no narinfo) is refused, naming it', async () => {
  const { dir, storePath } = await hostile.deleteNarInfo(fx);
  await expectFailure('missing', dir, storePath, /could not be substituted|not in/);
});

test('a narinfo with a ../ URL is refused', async () => {
  const { dir, storePath } = await hostile.dotDotUrl(fx);
  await expectFailure('dotdot-url', dir, storePath, /URL/);
});

test('a malformed narinfo is refused, naming the field', async () => {
  const { dir, storePath } = await hostile.malformedNarInfo(fx);
  await expectFailure('malformed', dir, storePath, /NarSize/);
});

for (const kind of ['dotdot-name', 'slash-name', 'nul-name', 'empty-name', 'unsorted', 'duplicate', 'bad-magic', 'bad-padding', 'trailing-bytes'] as const) {
  test(`a NAR with ${kind} is refused by the NAR reader`, async () => {
    const { dir, storePath } = await hostile.hostileNar(fx, kind);
    await expectFailure(`nar-${kind}`, dir, storePath, /bad NAR/);
  });
}
