import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import wasmUrl from '@sqlite.org/sqlite-wasm/sqlite3.wasm?url';
import type { Sqlite3Static } from '../core/nixdb/nix-database.ts';

let loaded: Promise<Sqlite3Static> | undefined;

/** SQLite for core/nixdb in a browser worker: the .wasm is an asset vite emits and fetches by URL. */
export function browserSqlite(): Promise<Sqlite3Static> {
  loaded ??= sqlite3InitModule({ locateFile: () => wasmUrl });
  return loaded;
}
