// Nix database benchmark (by hand: `node --import tsx bench/nixdb.ts [paths]`, default 10 000).
// Input: synthetic store paths, each referring to itself and up to 8 earlier paths. Ours: nixDatabase
// (SQLite as WebAssembly, in memory, then exported) in this process, after SQLite is loaded (its load
// is printed apart). Nix: `nix-store --load-db` of the same registration into an empty chroot store,
// under /usr/bin/time. Prints both wall times and the ratio, and checks both hold the same rows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nix32Encode } from '../core/nix/nix32.ts';
import { registrationText } from '../core/nix/registration.ts';
import { nixDatabase, type NixDbEntry } from '../core/nixdb/nix-database.ts';
import { nodeSqlite } from '../node/sqlite-wasm.ts';
import { NIX_ENV } from '../test/helpers/nix.ts';

/** Deterministic pseudo-random bytes (xorshift32), so every run registers the same paths. */
function bytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function syntheticClosure(n: number): NixDbEntry[] {
  const paths = Array.from({ length: n }, (_, i) => `/nix/store/${nix32Encode(bytes(i + 1, 20))}-pkg-${i}`);
  return paths.map((path, i) => {
    const refs = new Set([path]);
    for (let k = 1; k <= 8 && i - k * 7 >= 0; k++) refs.add(paths[i - k * 7]!);
    return { path, narHash: { algo: 'sha256', digest: bytes(n + i + 1, 32) }, narSize: 1000 + i, references: [...refs] };
  });
}

function count(db: string, sql: string): string {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 ${db}: ${r.stderr}`);
  return r.stdout.trim();
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const entries = syntheticClosure(n);
  const refs = entries.reduce((s, e) => s + e.references.length, 0);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-nixdb-'));
  try {
    let t = performance.now();
    await nodeSqlite();
    const loadSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const db = await nixDatabase(entries, { sqlite: nodeSqlite, registrationTime: 1 });
    const oursSeconds = (performance.now() - t) / 1000;
    const ours = join(tmp, 'ours.sqlite');
    writeFileSync(ours, db);

    const registration = join(tmp, 'registration');
    writeFileSync(registration, registrationText(entries));
    const store = join(tmp, 'R');
    const r = spawnSync('sh', ['-c', `/usr/bin/time -f 'TIME %e' nix-store --store '${store}' --load-db --option gc-reserved-space 0 < '${registration}'`], {
      encoding: 'utf8',
      env: { ...process.env, ...NIX_ENV },
    });
    if (r.status !== 0) throw new Error(`nix-store --load-db failed: ${r.stderr}`);
    const nixSeconds = Number(/TIME ([\d.]+)/.exec(r.stderr)![1]);
    const theirs = join(store, 'nix/var/nix/db/db.sqlite');
    const q = 'select count(*), sum(narSize) from ValidPaths; select count(*) from Refs';
    const sameRows = count(ours, q) === count(theirs, q);
    const timeRatio = +(oursSeconds / nixSeconds).toFixed(3);
    console.log(
      `${n} paths, ${refs} references: ours ${oursSeconds.toFixed(3)} s (+ ${loadSeconds.toFixed(3)} s loading SQLite), ` +
        `nix-store --load-db ${nixSeconds.toFixed(2)} s → ${timeRatio}×; db ${db.length} bytes; same rows: ${sameRows}`,
    );
    console.log(`BENCH-JSON ${JSON.stringify({ bench: 'nixdb', paths: n, references: refs, oursSeconds, sqliteLoadSeconds: loadSeconds, nixSeconds, timeRatio, dbBytes: db.length, sameRows })}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
