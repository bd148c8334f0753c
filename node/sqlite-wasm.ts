import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Sqlite3Static } from '../core/nixdb/nix-database.ts';

let loaded: Promise<Sqlite3Static> | undefined;

/**
 * SQLite for core/nixdb in Node: the package's Node build, which reads its sqlite3.wasm from
 * beside itself in node_modules (the CLI bundle leaves the package external for that reason).
 * Loaded once per thread.
 */
export function nodeSqlite(): Promise<Sqlite3Static> {
  loaded ??= sqlite3InitModule();
  return loaded;
}
