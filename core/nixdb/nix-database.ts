import type sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { formatNixHashBase16, type NixHash } from '../nix/hash.ts';
import { parseStorePath, StorePathError } from '../nix/store-path.ts';
import type { RegistrationEntry } from '../nix/registration.ts';
import { NIX_SCHEMA } from './schema.ts';
import { NixImagerError } from '../errors.ts';

/** The initialised SQLite WebAssembly module (@sqlite.org/sqlite-wasm). */
export type Sqlite3Static = Awaited<ReturnType<typeof sqlite3InitModule>>;

/** How a platform gets SQLite: Node reads the .wasm from node_modules, a browser worker fetches it. */
export type SqliteLoader = () => Promise<Sqlite3Static>;

/** One valid path: closureInfo's registration entry plus what a binary cache's narinfo adds. */
export interface NixDbEntry extends RegistrationEntry {
  deriver?: string;
  /** Signatures `<key name>:<base64>`, as narinfo Sig lines. */
  sigs?: string[];
  /** A content address (`fixed:r:sha256:…`, `text:sha256:…`), as narinfo CA lines. */
  ca?: string;
  /**
   * For a derivation (`….drv`) only, and required there: its outputs' names and paths, as its
   * Derive(…) term lists them (Nix reads them from the .drv); outputs without a path are left out.
   */
  derivationOutputs?: Record<string, string>;
}

export interface NixDatabaseOptions {
  sqlite: SqliteLoader;
  /**
   * Seconds since the epoch for every path's registrationTime. Nix writes the time of
   * registration (time(0) in `nix-store --load-db`); an image passes SOURCE_DATE_EPOCH.
   */
  registrationTime: number;
}

export class NixDatabaseError extends NixImagerError {
  override name = 'NixDatabaseError';
  readonly code = 'image';
}

interface Row {
  path: string;
  hash: string;
  deriver: string | null;
  narSize: number;
  sigs: string | null;
  ca: string | null;
  references: string[];
  /** [output name, path], in name order (Nix walks a std::map of the outputs). */
  outputs: [string, string][];
}

function checkStorePath(path: string, what: string): void {
  try {
    parseStorePath(path);
  } catch (e) {
    if (e instanceof StorePathError) throw new NixDatabaseError(`${what}: ${e.message}`);
    throw e;
  }
}

function checkHash(path: string, h: NixHash): string {
  // Nix's registerValidPaths asserts a SHA-256 NAR hash.
  if (h.algo !== 'sha256' || h.digest.length !== 32) throw new NixDatabaseError(`${path}: narHash must be sha256, not ${h.algo}`);
  return formatNixHashBase16(h);
}

const CA_PREFIX = /^(text|fixed):/;

/** Validates one entry and gives its row; references sorted and deduplicated (Nix holds a StorePathSet). */
function rowOf(e: NixDbEntry): Row {
  checkStorePath(e.path, 'path');
  if (!Number.isSafeInteger(e.narSize) || e.narSize <= 0) throw new NixDatabaseError(`${e.path}: narSize ${e.narSize} is not a positive integer`);
  if (e.deriver !== undefined) checkStorePath(e.deriver, `${e.path}: deriver`);
  for (const s of e.sigs ?? []) {
    if (!/^[^\s:]+:\S+$/.test(s)) throw new NixDatabaseError(`${e.path}: signature ${JSON.stringify(s)} is not <key name>:<base64>`);
  }
  if (e.ca !== undefined && !CA_PREFIX.test(e.ca)) throw new NixDatabaseError(`${e.path}: ca ${JSON.stringify(e.ca)} is not text:… or fixed:…`);
  const references = [...new Set(e.references)].sort();
  for (const r of references) checkStorePath(r, `${e.path}: reference`);
  return {
    path: e.path,
    hash: checkHash(e.path, e.narHash),
    deriver: e.deriver ?? null,
    narSize: e.narSize,
    sigs: e.sigs?.length ? e.sigs.join(' ') : null,
    ca: e.ca ?? null,
    references,
    outputs: outputsOf(e),
  };
}

const OUTPUT_NAME = /^[0-9a-zA-Z+\-._?=]+$/;

function outputsOf(e: NixDbEntry): [string, string][] {
  const isDrv = e.path.endsWith('.drv');
  if (!isDrv) {
    if (e.derivationOutputs !== undefined) throw new NixDatabaseError(`${e.path}: derivationOutputs given, but it is not a derivation (….drv)`);
    return [];
  }
  if (e.derivationOutputs === undefined) throw new NixDatabaseError(`${e.path}: a derivation needs its derivationOutputs (the output names and paths its .drv lists)`);
  const outputs = Object.entries(e.derivationOutputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, path] of outputs) {
    if (!OUTPUT_NAME.test(name)) throw new NixDatabaseError(`${e.path}: output name ${JSON.stringify(name)} is not a valid output name`);
    checkStorePath(path, `${e.path}: output ${name}`);
  }
  return outputs;
}

/** Rows sorted by path (Nix registers a std::map keyed by store path, so ids follow that order). */
function rowsOf(entries: NixDbEntry[]): Row[] {
  const rows = entries.map(rowOf).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.path === rows[i - 1]!.path) throw new NixDatabaseError(`${rows[i]!.path} is listed twice`);
  }
  return rows;
}

/** Ids as Nix assigns them (1, 2, … in path order); every reference must be one of the paths. */
function idsOf(rows: Row[]): Map<string, number> {
  const ids = new Map(rows.map((r, i) => [r.path, i + 1]));
  for (const r of rows) {
    for (const ref of r.references) {
      if (!ids.has(ref)) throw new NixDatabaseError(`${r.path}: reference ${ref} is not among the paths registered (the closure is incomplete)`);
    }
  }
  return ids;
}

/** Nix's registerValidPaths refuses reference cycles other than a path referring to itself. */
function checkAcyclic(rows: Row[], ids: Map<string, number>): void {
  const state = new Uint8Array(rows.length + 1); // 0 new, 1 on the stack, 2 done
  for (let start = 1; start <= rows.length; start++) {
    if (state[start] !== 0) continue;
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const row = rows[top[0] - 1]!;
      const ref = row.references[top[1]++];
      if (ref === undefined) {
        state[top[0]] = 2;
        stack.pop();
        continue;
      }
      const id = ids.get(ref)!;
      if (id === top[0] || state[id] === 2) continue;
      if (state[id] === 1) throw new NixDatabaseError(`cycle in the references of ${ref} from ${row.path}`);
      state[id] = 1;
      stack.push([id, 0]);
    }
  }
}

type Database = InstanceType<Sqlite3Static['oo1']['DB']>;
type SqlValue = string | number | null;

/** Rows per INSERT statement: each statement run is a round trip into the wasm module. */
const ROWS_PER_INSERT = 256;

/**
 * Inserts `values` (row after row, `width` columns each) in their order, many rows a statement,
 * so rowids come out as one insert per row would give them.
 */
function insertRows(db: Database, into: string, width: number, values: SqlValue[]): void {
  const row = `(${Array(width).fill('?').join(', ')})`;
  const many = db.prepare(`insert into ${into} values ${Array(ROWS_PER_INSERT).fill(row).join(', ')}`);
  const one = db.prepare(`insert into ${into} values ${row}`);
  try {
    const step = ROWS_PER_INSERT * width;
    let at = 0;
    for (; at + step <= values.length; at += step) many.bind(values.slice(at, at + step)).stepReset();
    for (; at < values.length; at += width) one.bind(values.slice(at, at + width)).stepReset();
  } finally {
    many.finalize();
    one.finalize();
  }
}

function fill(sqlite: Sqlite3Static, rows: Row[], ids: Map<string, number>, registrationTime: number): Uint8Array {
  const db = new sqlite.oo1.DB(':memory:', 'c');
  try {
    // Fixed page size and zeroed free space, so equal inputs give equal bytes; no journal, as a
    // database that fails half-way is thrown away whole.
    db.exec('pragma page_size = 4096; pragma secure_delete = on; pragma journal_mode = off;');
    db.exec('begin');
    for (const stmt of NIX_SCHEMA) db.exec(stmt);
    const paths: SqlValue[] = [];
    for (const r of rows) paths.push(r.path, r.hash, registrationTime, r.deriver, r.narSize, null, r.sigs, r.ca);
    insertRows(db, 'ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca)', 8, paths);
    const refs: number[] = [];
    for (const r of rows) for (const ref of r.references) refs.push(ids.get(r.path)!, ids.get(ref)!);
    insertRows(db, 'Refs (referrer, reference)', 2, refs);
    const outputs: SqlValue[] = [];
    for (const r of rows) for (const [name, path] of r.outputs) outputs.push(ids.get(r.path)!, name, path);
    insertRows(db, 'DerivationOutputs (drv, id, path)', 3, outputs);
    db.exec('commit');
    return sqlite.capi.sqlite3_js_db_export(db);
  } finally {
    db.close();
  }
}

/**
 * The bytes of /nix/var/nix/db/db.sqlite registering `entries` as valid, with the rows
 * `nix-store --load-db` writes for them (ultimate NULL; sigs and ca NULL when absent; the
 * DerivationOutputs of derivations) and the schema Nix creates. The file is in rollback-journal
 * mode and needs no -wal file beside it; Nix switches it to WAL when it first opens it read-write.
 */
export async function nixDatabase(entries: NixDbEntry[], opts: NixDatabaseOptions): Promise<Uint8Array> {
  if (!Number.isSafeInteger(opts.registrationTime) || opts.registrationTime < 0) {
    throw new NixDatabaseError(`registrationTime ${opts.registrationTime} is not a non-negative whole number of seconds`);
  }
  const rows = rowsOf(entries);
  const ids = idsOf(rows);
  checkAcyclic(rows, ids);
  return fill(await opts.sqlite(), rows, ids, opts.registrationTime);
}
