// narinfo, signatures, closure and registration against a real Nix store and binary cache
// built here with Debian's Nix 2.8 (chroot store, busybox builder, `nix copy` with a signing key).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { parseNarInfo, NarInfoError, type NarInfo } from '../core/nix/narinfo.ts';
import { parseCacheInfo } from '../core/nix/cache-info.ts';
import { CACHE_NIXOS_ORG_KEY, narInfoFingerprint, parsePublicKey, parseSecretKey, signFingerprint, verifyNarInfo } from '../core/nix/signature.ts';
import { readNar, narHashingTap } from '../core/nix/nar-reader.ts';
import { formatNixHash } from '../core/nix/hash.ts';
import { nix32Encode } from '../core/nix/nix32.ts';
import { closureOf } from '../core/nix/closure.ts';
import { registrationText, storePathsText, totalNarSizeText } from '../core/nix/registration.ts';
import { NIX_ENV } from './helpers/nix.ts';

const env = { ...process.env, ...NIX_ENV };
const dir = mkdtempSync(join(tmpdir(), 'nix-real-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const store = join(dir, 'store');
const cache = join(dir, 'cache');

function nixOut(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { env, cwd: dir, encoding: 'utf8', input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
}
const q = (...args: string[]) => nixOut('nix-store', ['--store', store, '--query', ...args]).trim();

// A small graph with a self-reference, shared dependencies and a name with `_` and `+`.
mkdirSync(join(dir, 'bb', 'bin'), { recursive: true });
copyFileSync('/bin/busybox', join(dir, 'bb', 'bin', 'busybox'));
writeFileSync(
  join(dir, 'default.nix'),
  String.raw`let
  bb = "${'$'}{builtins.path { path = ./bb; name = "busybox-static"; }}/bin/busybox";
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = bb; args = [ "sh" "-c" script ]; };
in rec {
  leaf = mk "leaf-1.0" "${'$'}{bb} mkdir -p $out/bin && echo leaf > $out/data && echo '#!/bin/sh' > $out/bin/tool && ${'$'}{bb} chmod +x $out/bin/tool && ${'$'}{bb} ln -s data $out/link";
  mid = mk "mid-2.0" "${'$'}{bb} mkdir $out && echo ${'$'}{leaf} > $out/ref";
  top = mk "top" "${'$'}{bb} mkdir $out && echo ${'$'}{mid} ${'$'}{leaf} > $out/refs && echo $out > $out/self";
  other = mk "other_1.0+x" "echo ${'$'}{leaf}/data > $out";
  # closureInfo's input: exportReferencesGraph as structured attrs, copied out as JSON.
  attrs = derivation {
    name = "closure-attrs"; system = builtins.currentSystem; builder = bb; __structuredAttrs = true;
    exportReferencesGraph.closure = [ top other ];
    args = [ "sh" "-c" "${'$'}{bb} cp .attrs.json $(${'$'}{bb} sed -n 's/.*\"outputs\":{\"out\":\"\\([^\"]*\\)\".*/\\1/p' .attrs.json)" ];
  };
}
`,
);
const built = (attr: string) => nixOut('nix-build', ['--store', store, 'default.nix', '-A', attr, '--no-out-link']).trim();
const [leaf, mid, top, other, attrs] = ['leaf', 'mid', 'top', 'other', 'attrs'].map(built) as [string, string, string, string, string];
const chroot = (p: string) => join(store, p);

nixOut('nix-store', ['--generate-binary-cache-key', 'test-key-1', join(dir, 'sec'), join(dir, 'pub')]);
const secretText = readFileSync(join(dir, 'sec'), 'utf8').trim();
const publicText = readFileSync(join(dir, 'pub'), 'utf8').trim();
const added = nixOut('nix-store', ['--store', store, '--add', join(dir, 'bb')]).trim();
nixOut('nix', ['copy', '--store', store, '--to', `file://${cache}?compression=none&secret-key=${join(dir, 'sec')}`, top, other]);
const xzCache = join(dir, 'cache-xz');
nixOut('nix', ['copy', '--store', store, '--to', `file://${xzCache}?compression=xz&secret-key=${join(dir, 'sec')}`, top, added]);

const closure = [leaf, mid, top, other];
const hashPart = (p: string) => p.slice('/nix/store/'.length, '/nix/store/'.length + 32);
const narInfoText = (p: string) => readFileSync(join(cache, `${hashPart(p)}.narinfo`), 'utf8');
const narInfos = new Map<string, NarInfo>(closure.map((p) => [p, parseNarInfo(narInfoText(p), { expectedStorePath: p })]));

test('nix-cache-info written by nix copy', () => {
  assert.deepEqual(parseCacheInfo(readFileSync(join(cache, 'nix-cache-info'), 'utf8')), { storeDir: '/nix/store', wantMassQuery: false, priority: 50 });
  assert.deepEqual(parseCacheInfo('StoreDir: /gnu/store\nWantMassQuery: 1\nPriority: 40\nFoo: bar\n'), { storeDir: '/gnu/store', wantMassQuery: true, priority: 40 });
});

test('narinfos written by nix copy parse to what nix-store --query says of each path', () => {
  for (const p of closure) {
    const info = narInfos.get(p)!;
    assert.equal(info.storePath, p);
    assert.equal(formatNixHash(info.narHash), q('--hash', p));
    assert.equal(info.narSize, Number(q('--size', p)));
    assert.deepEqual(info.references, q('--references', p).split('\n').filter(Boolean).sort());
    assert.equal(info.deriver, q('--deriver', p));
    assert.equal(info.compression, 'none');
    assert.equal(info.sigs.length, 1);
    const file = readFileSync(join(cache, info.url));
    assert.equal(info.fileSize, file.length);
    assert.equal(nix32Encode(info.fileHash!.digest), nix32Encode(createHash('sha256').update(file).digest()));
  }
});

test('narinfos of an xz cache and of a content-addressed path', () => {
  for (const p of [top, added]) {
    const text = readFileSync(join(xzCache, `${hashPart(p)}.narinfo`), 'utf8');
    const info = parseNarInfo(text, { expectedStorePath: p });
    assert.equal(info.compression, 'xz');
    assert.match(info.url, /^nar\/[0-9a-z]{52}\.nar\.xz$/);
    const file = readFileSync(join(xzCache, info.url));
    assert.equal(info.fileSize, file.length);
    assert.equal(nix32Encode(info.fileHash!.digest), nix32Encode(createHash('sha256').update(file).digest()));
    const unpacked = execFileSync('xz', ['-dc'], { input: file, maxBuffer: 1 << 28 });
    assert.equal(unpacked.length, info.narSize);
    assert.equal(formatNixHash(info.narHash), q('--hash', p));
    assert.deepEqual(verifyNarInfo(info, [parsePublicKey(publicText)]), { ok: true, keyName: 'test-key-1' });
  }
  const ca = parseNarInfo(readFileSync(join(xzCache, `${hashPart(added)}.narinfo`), 'utf8'));
  assert.equal(ca.ca, `fixed:r:${q('--hash', added)}`);
  assert.equal(ca.deriver, undefined);
  assert.deepEqual(ca.references, []);
});

test('the NARs in the cache read and hash to the narinfo NarHash/NarSize, and hold the files in the store', async () => {
  for (const p of closure) {
    const info = narInfos.get(p)!;
    const nar = new Uint8Array(readFileSync(join(cache, info.url)));
    const tap = narHashingTap((async function* () { yield nar; })());
    const entries = [];
    for await (const e of readNar(tap.chunks)) entries.push(e);
    assert.deepEqual(tap.result().narHash.digest, info.narHash.digest);
    assert.equal(tap.result().narSize, info.narSize);
    for (const e of entries) {
      if (e.type === 'regular') assert.deepEqual(nar.subarray(e.offset, e.offset + e.size), new Uint8Array(readFileSync(chroot(`${p}${e.path ? '/' + e.path : ''}`))));
    }
  }
});

test('signatures: nix copy signatures verify against the generated key; our signer writes the same Sig', () => {
  const pub = parsePublicKey(publicText);
  const sec = parseSecretKey(secretText);
  for (const p of closure) {
    const info = narInfos.get(p)!;
    assert.deepEqual(verifyNarInfo(info, [parsePublicKey(CACHE_NIXOS_ORG_KEY), pub]), { ok: true, keyName: 'test-key-1' });
    // ed25519 is deterministic: the same fingerprint and key give Nix's exact signature.
    assert.equal(signFingerprint(sec, narInfoFingerprint(info)), info.sigs[0]);
  }
});

test('signatures: untrusted, missing, wrong key under the trusted name, tampered fields', () => {
  const pub = parsePublicKey(publicText);
  const info = narInfos.get(top)!;
  assert.deepEqual(verifyNarInfo(info, [parsePublicKey(CACHE_NIXOS_ORG_KEY)]), { ok: false, reason: 'signed by untrusted key test-key-1' });
  assert.deepEqual(verifyNarInfo({ ...info, sigs: [] }, [pub]), { ok: false, reason: 'no signature' });
  const impostor = { name: 'test-key-1', key: parsePublicKey(CACHE_NIXOS_ORG_KEY).key };
  assert.deepEqual(verifyNarInfo(info, [impostor]), { ok: false, reason: 'bad signature by key test-key-1' });
  for (const tampered of [
    { ...info, narSize: info.narSize + 1 },
    { ...info, references: info.references.slice(1) },
    { ...info, narHash: narInfos.get(leaf)!.narHash },
    { ...info, storePath: other },
  ]) {
    assert.deepEqual(verifyNarInfo(tampered, [pub]), { ok: false, reason: 'bad signature by key test-key-1' });
  }
  // References are a set to Nix: listed in another order they sign the same.
  assert.equal(verifyNarInfo({ ...info, references: [...info.references].reverse() }, [pub]).ok, true);
  assert.notDeepEqual([...info.references].reverse(), info.references);
  // A good signature anywhere in the list suffices, as in Nix.
  const extra = signFingerprint(parseSecretKey(`other-key:${Buffer.alloc(64, 7).toString('base64')}`), narInfoFingerprint(info));
  assert.equal(verifyNarInfo({ ...info, sigs: [extra, ...info.sigs] }, [pub]).ok, true);
  assert.equal(verifyNarInfo({ ...info, sigs: [info.sigs[0]!.replace(/^[^:]*:./, 'test-key-1:A')] }, [pub]).ok, false);
});

test('closureOf gives nix-store --query --requisites, sorted', () => {
  const refs = (p: string) => narInfos.get(p)!.references;
  for (const roots of [[top], [other], [leaf], [top, other], [mid, mid]]) {
    const want = [...new Set(roots.flatMap((r) => q('--requisites', r).split('\n')))].sort();
    assert.deepEqual(closureOf(roots, refs), want);
  }
});

test("registrationText, storePathsText and totalNarSizeText are byte-identical to nixpkgs closureInfo's jq over exportReferencesGraph", () => {
  const paths = closureOf([top, other], (p) => narInfos.get(p)!.references).map((p) => narInfos.get(p)!);
  const entries = paths.map((i) => ({ path: i.storePath, narHash: i.narHash, narSize: i.narSize, references: i.references }));
  const json = chroot(attrs);
  const jq = (program: string) => execFileSync('jq', ['-r', program, json], { encoding: 'utf8' });
  // closure-info.nix: the registration program output minus its last line (`head -n -1`).
  const registration = jq('.closure | map([.path, .narHash, .narSize, "", (.references | length)] + .references) | add | map("\\(.)\\n") | add');
  assert.equal(registrationText(entries), registration.slice(0, registration.lastIndexOf('\n', registration.length - 2) + 1));
  assert.equal(storePathsText(entries), jq('.closure[].path'));
  assert.equal(totalNarSizeText(entries), jq('.closure | map(.narSize) | add'));
  // Input order must not matter.
  assert.equal(registrationText([...entries].reverse().map((e) => ({ ...e, references: [...e.references].reverse() }))), registrationText(entries));
  assert.equal(registrationText([]), '');
});

/** --dump-db writes hashes in bare base16; `nix hash to-base32` turns them into the registration's form. */
function withNix32Hashes(dump: string): string {
  const hex = [...dump.matchAll(/^[0-9a-f]{64}$/gm)].map((m) => m[0]);
  const nix32 = nixOut('nix', ['hash', 'to-base32', '--type', 'sha256', ...hex]).trim().split('\n');
  const of = new Map(hex.map((h, i) => [h, `sha256:${nix32[i]}`]));
  return dump.replace(/^[0-9a-f]{64}$/gm, (h) => of.get(h)!);
}

/** The records of a registration text (path, hash, size, deriver, count, references), sorted by path: --dump-db lists them in dependency order. */
function sortedRecords(text: string): string[] {
  const lines = text.split('\n');
  const records: string[] = [];
  for (let i = 0; i + 1 < lines.length; ) {
    const n = Number(lines[i + 4]);
    records.push(lines.slice(i, i + 5 + n).join('\n'));
    i += 5 + n;
  }
  return records.sort();
}

test('nix-store --load-db takes our registration; --dump-db gives it back; --verify --check-contents passes on the restored NARs', () => {
  const entries = closure.map((p) => narInfos.get(p)!).map((i) => ({ path: i.storePath, narHash: i.narHash, narSize: i.narSize, references: i.references }));
  const ours = registrationText(entries);
  const root = join(dir, 'image-root');
  mkdirSync(join(root, 'nix', 'store'), { recursive: true });
  for (const p of closure) {
    const r = spawnSync('nix-store', ['--restore', join(root, p)], { env, input: readFileSync(join(cache, narInfos.get(p)!.url)) });
    assert.equal(r.status, 0, r.stderr.toString());
  }
  nixOut('nix-store', ['--store', root, '--load-db'], ours);
  assert.deepEqual(sortedRecords(withNix32Hashes(nixOut('nix-store', ['--store', root, '--dump-db']))), sortedRecords(ours));
  assert.equal(sortedRecords(ours).join('\n') + '\n', ours, 'our text is already in sorted record order');
  const verify = spawnSync('nix-store', ['--store', root, '--verify', '--check-contents'], { env, encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /modified|error|invalid/i);
  // The source store's own dump, derivers blanked, is the same text.
  const source = withNix32Hashes(nixOut('nix-store', ['--store', store, '--dump-db', ...closure])).replace(/^\/nix\/store\/[a-z0-9]{32}-[^\n]*\.drv$/gm, '');
  assert.deepEqual(sortedRecords(source), sortedRecords(ours));
});

test('--verify --check-contents notices a registration with a wrong hash (the check above can fail)', () => {
  const entries = [leaf].map((p) => narInfos.get(p)!).map((i) => ({ path: i.storePath, narHash: narInfos.get(top)!.narHash, narSize: i.narSize, references: i.references }));
  const root = join(dir, 'bad-root');
  mkdirSync(join(root, 'nix', 'store'), { recursive: true });
  spawnSync('nix-store', ['--restore', join(root, leaf)], { env, input: readFileSync(join(cache, narInfos.get(leaf)!.url)) });
  nixOut('nix-store', ['--store', root, '--load-db'], registrationText(entries));
  const verify = spawnSync('nix-store', ['--store', root, '--verify', '--check-contents'], { env, encoding: 'utf8' });
  assert.match(verify.stderr, /modified|hash/i);
});

// ---- malformed variants of a real narinfo ----

const base = narInfoText(top);
const replaceLine = (key: string, line: string | null) =>
  base
    .split('\n')
    .flatMap((l) => (l.startsWith(`${key}:`) ? (line === null ? [] : [line]) : [l]))
    .join('\n');

test('malformed narinfos throw NarInfoError naming the store path and the field', () => {
  const cases: [string, string, string][] = [
    ['StorePath missing', replaceLine('StorePath', null), 'StorePath'],
    ['URL missing', replaceLine('URL', null), 'URL'],
    ['URL escaping with ..', replaceLine('URL', 'URL: ../x'), 'URL'],
    ['URL with .. in the middle', replaceLine('URL', 'URL: nar/../../x.nar'), 'URL'],
    ['URL with encoded dots', replaceLine('URL', 'URL: %2e%2E/x.nar'), 'URL'],
    ['URL absolute path', replaceLine('URL', 'URL: /etc/passwd'), 'URL'],
    ['URL absolute URL', replaceLine('URL', 'URL: https://evil.example/x.nar'), 'URL'],
    ['URL protocol-relative', replaceLine('URL', 'URL: //evil.example/x.nar'), 'URL'],
    ['URL with a backslash', replaceLine('URL', 'URL: nar\\..\\x'), 'URL'],
    ['URL with only a query', replaceLine('URL', 'URL: ?x'), 'URL'],
    ['NarHash missing', replaceLine('NarHash', null), 'NarHash'],
    ['NarHash not sha256', replaceLine('NarHash', `NarHash: sha1:${'0'.repeat(32)}`), 'NarHash'],
    ['NarHash bad nix32', replaceLine('NarHash', `NarHash: sha256:${'e'.repeat(52)}`), 'NarHash'],
    ['NarHash too short', replaceLine('NarHash', 'NarHash: sha256:abc'), 'NarHash'],
    ['NarSize missing', replaceLine('NarSize', null), 'NarSize'],
    ['NarSize not decimal', replaceLine('NarSize', 'NarSize: 0x10'), 'NarSize'],
    ['NarSize negative', replaceLine('NarSize', 'NarSize: -1'), 'NarSize'],
    ['NarSize zero', replaceLine('NarSize', 'NarSize: 0'), 'NarSize'],
    ['NarSize duplicated', `${base}NarSize: 1\n`, 'NarSize'],
    ['FileSize not decimal', replaceLine('FileSize', 'FileSize: 1e3'), 'FileSize'],
    ['References with a bad base name', replaceLine('References', 'References: not-a-store-path'), 'References'],
    ['References with a full path', replaceLine('References', `References: ${leaf}`), 'References'],
    ['Deriver bad', replaceLine('Deriver', 'Deriver: x'), 'Deriver'],
    ['StorePath for another path', replaceLine('StorePath', `StorePath: ${other}`), 'StorePath'],
    ['StorePath invalid', replaceLine('StorePath', 'StorePath: /nix/store/eeee'), 'StorePath'],
  ];
  for (const [what, text, field] of cases) {
    assert.throws(
      () => parseNarInfo(text, { expectedStorePath: top }),
      (e: unknown) => e instanceof NarInfoError && e.message.includes(top) && e.message.includes(`field ${field}`),
      what,
    );
  }
  assert.throws(() => parseNarInfo('garbage', { source: 'https://cache.example/x.narinfo' }), (e: unknown) => e instanceof NarInfoError && e.message.includes('https://cache.example/x.narinfo'));
});

test('accepted narinfo variants: unknown keys, Compression default, no References, harmonia-style URL query', () => {
  const withExtra = parseNarInfo(`${base}System: x86_64-linux\nFutureKey: whatever\n`, { expectedStorePath: top });
  assert.deepEqual(withExtra, narInfos.get(top));
  assert.equal(parseNarInfo(replaceLine('Compression', null)).compression, 'bzip2');
  assert.deepEqual(parseNarInfo(replaceLine('References', 'References: ')).references, []);
  assert.equal(parseNarInfo(replaceLine('URL', 'URL: nar/abc.nar?hash=xyz')).url, 'nar/abc.nar?hash=xyz');
  assert.equal(parseNarInfo(replaceLine('Deriver', 'Deriver: unknown-deriver')).deriver, undefined);
  assert.deepEqual(parseNarInfo(base.replaceAll('\n', '\r\n')), narInfos.get(top));
  const twoSigs = parseNarInfo(`${base}Sig: other:${Buffer.alloc(64).toString('base64')}\n`);
  assert.equal(twoSigs.sigs.length, 2);
  // The key listings in the cache dir are what the tests above read.
  assert.ok(readdirSync(cache).some((f) => f.endsWith('.narinfo')));
});

test('property: any URL parseNarInfo accepts resolves inside the cache; nothing but NarInfoError is thrown', () => {
  const cacheRoot = 'https://cache.example/sub/dir/';
  const urlArb = fc.string({ unit: fc.constantFrom('.', '/', '%', '2', 'e', 'E', 'f', 'F', '\\', ':', '?', '#', 'a', 'n', ' ', '@'), maxLength: 14 });
  fc.assert(
    fc.property(urlArb, (url) => {
      let info: NarInfo;
      try {
        info = parseNarInfo(replaceLine('URL', `URL: ${url}`), { expectedStorePath: top });
      } catch (e) {
        assert.ok(e instanceof NarInfoError, String(e));
        return;
      }
      const resolved = new URL(info.url, cacheRoot);
      const root = new URL(cacheRoot);
      assert.ok(resolved.origin === root.origin && resolved.pathname.startsWith(root.pathname) && resolved.pathname.length > root.pathname.length, `${url} resolves to ${resolved.href}`);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.nat(), (junk, at) => {
      const text = base.slice(0, at % base.length) + junk + base.slice(at % base.length);
      try {
        parseNarInfo(text, { expectedStorePath: top });
      } catch (e) {
        assert.ok(e instanceof NarInfoError, String(e));
      }
    }),
  );
});
