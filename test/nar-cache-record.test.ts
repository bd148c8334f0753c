import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryCache } from '../core/cache/binary-cache.ts';
import { resolvePaths, type ResolvedPath } from '../core/cache/resolve.ts';
import { nix32Encode } from '../core/nix/nix32.ts';
import { parsePublicKey } from '../core/nix/signature.ts';
import type { Sha256 } from '../core/primitives/sha256.ts';
import { fetchNar, narCacheKey } from '../core/store/nar-fetch.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { narCacheDir } from '../node/nar-cache-dir.ts';
import { run, runCli } from './helpers/cli.ts';
import { serveWithFaults, type FaultServer } from './helpers/fault-server.ts';
import { syntheticCache, type SyntheticCache } from './helpers/synthetic-cache.ts';

let syn: SyntheticCache;
let server: FaultServer;
let tmp: string;
let resolved: ResolvedPath[];

before(async () => {
  syn = await syntheticCache({ paths: 6, filesPerPath: 6, meanFileSize: 40_000, compression: 'xz', seed: 17 });
  server = await serveWithFaults(syn.dir);
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-nar-record-'));
  const cache = new BinaryCache(server.url, fetch);
  const paths = await resolvePaths([syn.toplevel], [cache], { trustedKeys: [parsePublicKey(syn.publicKey)], requireSigs: true, closure: true });
  resolved = [...paths.values()];
});
after(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

/** node:crypto's SHA-256, counting every byte it is given. */
function countingSha256(): { sha256: () => Sha256; hashed: () => number } {
  let bytes = 0;
  const sha256 = (): Sha256 => {
    const h = createHash('sha256');
    return { update: (b) => void ((bytes += b.length), h.update(b)), digest: () => new Uint8Array(h.digest()) };
  };
  return { sha256, hashed: () => bytes };
}

async function fetchAll(narDir: string, sha256: () => Sha256) {
  const nars = narCacheDir(narDir);
  const out = [];
  for (const r of resolved) out.push(await fetchNar(r, nars, { codecs: nodeCodecs, sha256 }));
  return out;
}

/** `touch -r from to`: gives `to` the times of `from`, to the nanosecond. */
async function touchReference(from: string, to: string): Promise<void> {
  const t = await run('touch', ['-r', from, to]);
  assert.equal(t.code, 0, t.stderr);
}

/** The resolved path with the largest NAR, and its cache entry file. */
function largest(narDir: string) {
  const r = resolved.reduce((a, b) => (b.info.narSize > a.info.narSize ? b : a));
  return { r, file: join(narDir, `${narCacheKey(r.info.narHash)}.nar`) };
}

test('a warm NAR cache is trusted from its records: no byte hashed, same listings', async () => {
  const narDir = join(tmp, 'warm');
  const cold = countingSha256();
  const first = await fetchAll(narDir, cold.sha256);
  assert.ok(cold.hashed() >= resolved.reduce((n, r) => n + r.info.narSize, 0), 'the cold fetch hashes every NAR');
  const names = await readdir(narDir);
  for (const r of resolved) assert.ok(names.includes(`${narCacheKey(r.info.narHash)}.ok`), `a record beside ${r.info.storePath}'s NAR`);
  const warm = countingSha256();
  const requests = server.requests.length;
  const second = await fetchAll(narDir, warm.sha256);
  assert.equal(warm.hashed(), 0, 'the warm fetch hashes nothing');
  assert.equal(server.requests.length, requests, 'and downloads nothing');
  assert.deepEqual(second.map((n) => n.entries), first.map((n) => n.entries));
});

test('a cached NAR changed in place, same size and mtime put back, is verified again and fetched anew', async () => {
  const narDir = join(tmp, 'tampered');
  await fetchAll(narDir, countingSha256().sha256);
  const { r, file } = largest(narDir);
  const before = await stat(file, { bigint: true });
  await touchReference(file, `${file}.times`);
  const fd = await open(file, 'r+');
  const at = Number(before.size / 2n);
  const { buffer } = await fd.read(Buffer.alloc(1), 0, 1, at);
  await fd.write(Buffer.from([buffer[0]! ^ 0xff]), 0, 1, at);
  await fd.close();
  await touchReference(`${file}.times`, file);
  const after = await stat(file, { bigint: true });
  assert.equal(after.size, before.size);
  assert.equal(after.mtimeNs, before.mtimeNs, 'the mtime is put back to the nanosecond');
  assert.equal(after.ino, before.ino);
  const requests = server.requestsFor(r.info.url).length;
  const again = countingSha256();
  await fetchAll(narDir, again.sha256);
  assert.ok(again.hashed() >= r.info.narSize, 'the changed NAR was hashed again');
  assert.equal(again.hashed(), 2 * r.info.narSize + r.info.fileSize!, "the cached copy, then the download (NAR and FileHash), and no other NAR");
  assert.equal(server.requestsFor(r.info.url).length, requests + 1, 'the refused NAR was downloaded again');
  const digest = createHash('sha256').update(await readFile(file)).digest();
  assert.equal(nix32Encode(digest), narCacheKey(r.info.narHash), 'the entry holds the right bytes again');
});

test('a record that is torn or names another NarSize is not trusted', async () => {
  const narDir = join(tmp, 'torn');
  await fetchAll(narDir, countingSha256().sha256);
  const { r, file } = largest(narDir);
  const record = file.replace(/\.nar$/, '.ok');
  const text = await readFile(record, 'utf8');
  await writeFile(record, text.slice(0, text.length / 2));
  const torn = countingSha256();
  await fetchAll(narDir, torn.sha256);
  assert.equal(torn.hashed(), r.info.narSize, 'a torn record: that NAR verified again, and only it');
  const wrong = JSON.parse(await readFile(record, 'utf8'));
  await writeFile(record, JSON.stringify({ ...wrong, narSize: wrong.narSize + 1 }));
  const other = countingSha256();
  await fetchAll(narDir, other.sha256);
  assert.equal(other.hashed(), r.info.narSize, 'a record for another NarSize: verified again');
});

test('CLI: warm builds, and a build after a cached NAR was changed in place, give the cold build\'s bytes (cmp)', async () => {
  const dir = join(tmp, 'cli');
  await mkdir(dir, { recursive: true });
  const cfg = join(dir, 'config.json');
  const config = { format: 'tarball', substituters: [server.url], trustedPublicKeys: [syn.publicKey], storeContents: [{ object: syn.toplevel, symlink: '/run/current-system' }], compression: 'none' };
  await writeFile(cfg, JSON.stringify(config));
  const build = async (name: string) => {
    const out = join(dir, name);
    const b = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet']);
    assert.equal(b.code, 0, b.stderr);
    return out;
  };
  const cold = await build('cold.tar');
  const kept = await readdir(join(dir, 'cache', 'nar'));
  for (const r of resolved) assert.ok(kept.includes(`${narCacheKey(r.info.narHash)}.ok`), 'the CLI records each verification');
  const warm = await build('warm.tar');
  const { file } = largest(join(dir, 'cache', 'nar'));
  const st = await stat(file);
  await touchReference(file, `${file}.times`);
  const fd = await open(file, 'r+');
  await fd.write(Buffer.alloc(64, 0x5a), 0, 64, Math.floor(st.size / 2));
  await fd.close();
  await touchReference(`${file}.times`, file);
  const healed = await build('healed.tar');
  for (const out of [warm, healed]) {
    const c = await run('cmp', [cold, out]);
    assert.equal(c.code, 0, `${out} differs from the cold build: ${c.stdout}${c.stderr}`);
  }
});
