// core/nixdb against Debian's Nix 2.8: a root whose /nix/var/nix/db holds only our db.sqlite and
// schema must verify, query and sign-check like the store Nix built, and read row for row like
// the database `nix-store --load-db` creates from the same registration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { nixDatabase, NixDatabaseError, type NixDbEntry } from '../core/nixdb/nix-database.ts';
import { schemaFileText } from '../core/nixdb/schema.ts';
import { parseNixHash } from '../core/nix/hash.ts';
import { parseNarInfo } from '../core/nix/narinfo.ts';
import { nodeSqlite } from '../node/sqlite-wasm.ts';
import { fixtureCache, type Fixture } from './helpers/fixtures.ts';
import { ROOT } from './helpers/cli.ts';
import { NIX_ENV } from './helpers/nix.ts';

const env = { ...process.env, ...NIX_ENV };
const EPOCH = 1700000000;
let fx: Fixture;
let tmp: string;
/** The closure as Nix's store knows it (`nix path-info --json`), with the signatures of the xz cache. */
let entries: NixDbEntry[];
/** What Nix itself says of the closure, for comparison. */
let pathInfo: PathInfo[];

interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  ca?: string;
  signatures?: string[];
  registrationTime?: number;
  ultimate?: boolean;
}

function out(cmd: string, args: string[], input?: string | Uint8Array): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
}

function entryOf(p: PathInfo): NixDbEntry {
  return {
    path: p.path,
    narHash: parseNixHash(p.narHash),
    narSize: p.narSize,
    references: p.references,
    ...(p.deriver ? { deriver: p.deriver } : {}),
    ...(p.ca ? { ca: p.ca } : {}),
  };
}

const opts = { sqlite: nodeSqlite, registrationTime: EPOCH };

before(async () => {
  fx = await fixtureCache();
  tmp = mkdtempSync(join(tmpdir(), 'nixdb-'));
  pathInfo = JSON.parse(out('nix', ['path-info', '--store', fx.storeRoot, '--json', '-r', fx.paths.toplevel])) as PathInfo[];
  entries = pathInfo.map((p) => {
    const narinfo = join(fx.caches.xz, `${p.path.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`);
    let sigs: string[] = [];
    try {
      sigs = parseNarInfo(readFileSync(narinfo, 'utf8'), { expectedStorePath: p.path }).sigs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return { ...entryOf(p), ...(sigs.length ? { sigs } : {}) };
  });
  assert.ok(entries.some((e) => e.ca) && entries.some((e) => e.sigs) && entries.some((e) => e.references.length > 1), 'the fixture covers ca, sigs and references');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A root R with our database and a copy of the closure's files, as an image would hold it. */
function rootWith(name: string, db: Uint8Array): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'nix/var/nix/db'), { recursive: true });
  mkdirSync(join(root, 'nix/store'), { recursive: true });
  writeFileSync(join(root, 'nix/var/nix/db/db.sqlite'), db);
  writeFileSync(join(root, 'nix/var/nix/db/schema'), schemaFileText());
  for (const p of fx.closure) cpSync(join(fx.storeRoot, p), join(root, p), { recursive: true, verbatimSymlinks: true });
  return root;
}

const sqlite = (db: string, ...args: string[]) => out('sqlite3', [db, ...args]);

test('Nix 2.8 verifies, queries and signature-checks a store registered by our database', async () => {
  const root = rootWith('R', await nixDatabase(entries, opts));
  const dbFile = join(root, 'nix/var/nix/db/db.sqlite');
  // As written: a plain rollback-journal file, nothing beside it.
  assert.equal(sqlite(dbFile, 'pragma journal_mode').trim(), 'delete');
  assert.equal(sqlite(dbFile, 'pragma integrity_check').trim(), 'ok');
  // Queries first: --verify would fill in a hash it finds missing (all zeros).
  const q = (...args: string[]) => out('nix-store', ['--store', root, '-q', ...args]).trim();
  assert.deepEqual(q('-R', fx.paths.toplevel).split('\n').sort(), fx.closure);
  for (const p of pathInfo) {
    assert.equal(q('--hash', p.path), out('nix-store', ['--store', fx.storeRoot, '-q', '--hash', p.path]).trim());
    assert.equal(q('--size', p.path), String(p.narSize));
    assert.equal(q('--deriver', p.path), p.deriver ?? 'unknown-deriver');
  }
  const ours = JSON.parse(out('nix', ['path-info', '--store', root, '--json', '-r', fx.paths.toplevel])) as PathInfo[];
  const strip = ({ registrationTime: _t, ultimate: _u, signatures: _s, ...rest }: PathInfo) => rest;
  assert.deepEqual(ours.map(strip), pathInfo.map(strip));
  for (const p of ours) {
    assert.equal(p.registrationTime, EPOCH);
    assert.equal(p.ultimate, undefined);
    assert.deepEqual(p.signatures, entries.find((e) => e.path === p.path)!.sigs);
  }
  const verify = spawnSync('nix-store', ['--store', root, '--verify', '--check-contents'], { env, encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /error|warning|modified|invalid|fixing/i);
  // Signatures are checked against the fingerprint of our rows (hash, size, references).
  const trusted = spawnSync('nix', ['store', 'verify', '--store', root, '-r', fx.paths.toplevel, '--trusted-public-keys', fx.publicKey], { env, encoding: 'utf8' });
  assert.equal(trusted.status, 0, trusted.stderr);
  const untrusted = spawnSync('nix', ['store', 'verify', '--store', root, '-r', fx.paths.toplevel, '--trusted-public-keys', fx.otherPublicKey], { env, encoding: 'utf8' });
  assert.notEqual(untrusted.status, 0, 'a key nobody signed with must not verify');
});

test('--verify --check-contents fails when a registered hash is wrong (the check above can fail)', async () => {
  const lib = entries.find((e) => e.path === fx.paths.lib)!;
  const bad = entries.map((e) => (e.path === fx.paths.app ? { ...e, narHash: lib.narHash } : e));
  const root = rootWith('R-bad', await nixDatabase(bad, opts));
  const verify = spawnSync('nix-store', ['--store', root, '--verify', '--check-contents'], { env, encoding: 'utf8' });
  assert.notEqual(verify.status, 0);
  assert.match(verify.stderr, new RegExp(`${fx.paths.app}.*modified`));
});

test('schema and rows equal those of nix-store --load-db on an empty store', async () => {
  // The registration format carries neither sigs nor ca, so neither do these entries.
  const plain = entries.map(({ sigs: _s, ca: _c, ...e }) => e);
  const ours = join(tmp, 'ours.sqlite');
  writeFileSync(ours, await nixDatabase(plain, opts));
  const r2 = join(tmp, 'R2');
  mkdirSync(r2);
  const registration = out('nix-store', ['--store', fx.storeRoot, '--dump-db', ...fx.closure]);
  out('nix-store', ['--store', r2, '--load-db', '--option', 'gc-reserved-space', '0'], registration);
  const theirs = join(r2, 'nix/var/nix/db/db.sqlite');
  assert.equal(sqlite(ours, '.schema'), sqlite(theirs, '.schema'));
  assert.equal(readFileSync(join(r2, 'nix/var/nix/db/schema'), 'utf8'), schemaFileText());
  const rows = [
    'select id, path, hash, deriver, narSize, ultimate, sigs, ca, typeof(ultimate), typeof(sigs), typeof(ca) from ValidPaths order by id',
    'select rowid, referrer, reference from Refs order by rowid',
    'select * from DerivationOutputs',
    'select * from sqlite_sequence',
  ];
  for (const sql of rows) assert.equal(sqlite(ours, '-line', sql), sqlite(theirs, '-line', sql), sql);
  assert.notEqual(sqlite(ours, '-line', rows[1]!), '', 'the closure has references');
  assert.equal(sqlite(ours, 'select distinct registrationTime from ValidPaths').trim(), String(EPOCH));
  for (const pragma of ['page_size', 'encoding', 'auto_vacuum', 'user_version']) {
    assert.equal(sqlite(ours, `pragma ${pragma}`), sqlite(theirs, `pragma ${pragma}`), pragma);
  }
});

/** Entries for the closure of `drv` (derivations, their sources and builder) as Nix's store knows them. */
function derivationClosure(drv: string): NixDbEntry[] {
  const infos = JSON.parse(out('nix', ['path-info', '--store', fx.storeRoot, '--json', '-r', '--derivation', drv])) as PathInfo[];
  const drvs = JSON.parse(out('nix', ['show-derivation', '--store', fx.storeRoot, '-r', drv])) as Record<string, { outputs: Record<string, { path?: string }> }>;
  return infos.map((p) => {
    const outputs = drvs[p.path]?.outputs;
    return { ...entryOf(p), ...(outputs ? { derivationOutputs: Object.fromEntries(Object.entries(outputs).flatMap(([name, o]) => (o.path ? [[name, o.path]] : []))) } : {}) };
  });
}

test('derivations: DerivationOutputs rows as nix-store --load-db writes them from the .drv files', async () => {
  const toplevelDrv = out('nix-store', ['--store', fx.storeRoot, '-q', '--deriver', fx.paths.toplevel]).trim();
  const drvEntries = derivationClosure(toplevelDrv);
  assert.ok(drvEntries.filter((e) => e.derivationOutputs).length >= 4, 'the closure holds the fixture derivations');
  const paths = drvEntries.map((e) => e.path);
  const copyInto = (root: string) => {
    for (const p of paths) cpSync(join(fx.storeRoot, p), join(root, p), { recursive: true, verbatimSymlinks: true });
  };
  const root = join(tmp, 'R-drv');
  mkdirSync(join(root, 'nix/var/nix/db'), { recursive: true });
  writeFileSync(join(root, 'nix/var/nix/db/db.sqlite'), await nixDatabase(drvEntries, opts));
  writeFileSync(join(root, 'nix/var/nix/db/schema'), schemaFileText());
  copyInto(root);
  const ours = join(tmp, 'ours-drv.sqlite');
  cpSync(join(root, 'nix/var/nix/db/db.sqlite'), ours);
  const verify = spawnSync('nix-store', ['--store', root, '--verify', '--check-contents'], { env, encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /error|warning|modified|invalid|fixing/i);
  // Nix reads each .drv of the registration from the store, so the reference store holds the files.
  const r2 = join(tmp, 'R2-drv');
  copyInto(r2);
  const registration = out('nix-store', ['--store', fx.storeRoot, '--dump-db', ...paths]);
  out('nix-store', ['--store', r2, '--load-db', '--option', 'gc-reserved-space', '0'], registration);
  const theirs = join(r2, 'nix/var/nix/db/db.sqlite');
  for (const sql of ['select rowid, * from DerivationOutputs order by rowid', 'select id, path, hash, deriver, narSize from ValidPaths order by id', 'select rowid, * from Refs order by rowid']) {
    assert.equal(sqlite(ours, '-line', sql), sqlite(theirs, '-line', sql), sql);
  }
  assert.match(sqlite(ours, 'select count(*) from DerivationOutputs'), /^[4-9]\n$/);
});

test('same entries, same bytes: in any order, across loads, after other databases', async () => {
  const a = await nixDatabase(entries, opts);
  await nixDatabase(entries.slice(0, 2), { ...opts, registrationTime: 1 });
  const b = await nixDatabase([...entries].reverse(), opts);
  assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  // A fresh thread (fresh wasm heap) through the bundled CLI's way of loading SQLite.
  const dir = join(ROOT, 'test-artifacts', 'nixdb-bundle');
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'entries.json');
  writeFileSync(input, JSON.stringify(entries.map((e) => ({ ...e, narHash: `sha256:${Buffer.from(e.narHash.digest).toString('hex')}` }))));
  writeFileSync(
    join(dir, 'entry.ts'),
    `import { readFileSync, writeFileSync } from 'node:fs';
import { nixDatabase } from '${ROOT}core/nixdb/nix-database.ts';
import { parseNixHash } from '${ROOT}core/nix/hash.ts';
import { nodeSqlite } from '${ROOT}node/sqlite-wasm.ts';
const entries = JSON.parse(readFileSync(process.argv[2], 'utf8')).map((e) => ({ ...e, narHash: parseNixHash(e.narHash) }));
writeFileSync(process.argv[3], await nixDatabase(entries, { sqlite: nodeSqlite, registrationTime: ${EPOCH} }));
`,
  );
  // As scripts/build-cli.mjs bundles: SQLite stays external, found in node_modules at run time.
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile: join(dir, 'entry.mjs'), bundle: true, platform: 'node', format: 'esm', external: ['@sqlite.org/sqlite-wasm'], logLevel: 'error' });
  execFileSync(process.execPath, [join(dir, 'entry.mjs'), input, join(dir, 'out.sqlite')]);
  assert.ok(readFileSync(join(dir, 'out.sqlite')).equals(Buffer.from(a)));
});

test('bad input: clear errors naming the path', async () => {
  const [first, second] = [entries.find((e) => e.references.length > 1)!, entries[0]!];
  const cases: [NixDbEntry[], RegExp][] = [
    [entries.filter((e) => !first.references.includes(e.path) || e.path === first.path), new RegExp(`${first.path}: reference /nix/store/\\S+ is not among the paths registered`)],
    [[...entries, second], new RegExp(`${second.path} is listed twice`)],
    [[{ ...second, narSize: -1 }], /narSize -1 is not a positive integer/],
    [[{ ...second, path: '/nix/store/short' }], /path: invalid store path "\/nix\/store\/short"/],
    [[{ ...second, narHash: parseNixHash(`sha1:${'0'.repeat(40)}`) }], /narHash must be sha256, not sha1/],
    [[{ ...second, sigs: ['no signature'] }], /signature "no signature" is not <key name>:<base64>/],
    [[{ ...second, path: `${second.path.slice(0, 44)}x.drv` }], /x\.drv: a derivation needs its derivationOutputs/],
    [[{ ...second, derivationOutputs: { out: second.path } }], /derivationOutputs given, but it is not a derivation/],
    [[{ ...second, path: `${second.path.slice(0, 44)}x.drv`, derivationOutputs: { 'o/t': second.path } }], /output name "o\/t" is not a valid output name/],
  ];
  for (const [input, message] of cases) await assert.rejects(nixDatabase(input, opts), (e: Error) => e instanceof NixDatabaseError && message.test(e.message));
  const a = `/nix/store/${'a'.repeat(32)}-a`;
  const b = `/nix/store/${'b'.repeat(32)}-b`;
  const cyclic = [a, b].map((path, i) => ({ path, narHash: second.narHash, narSize: 8, references: [path, i ? a : b] }));
  await assert.rejects(nixDatabase(cyclic, opts), /cycle in the references of/);
  await assert.rejects(nixDatabase(entries, { ...opts, registrationTime: 1.5 }), /registrationTime 1.5/);
});
