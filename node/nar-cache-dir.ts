import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NixImagerError } from '../core/errors.ts';
import type { RandomAccess } from '../core/io/data-source.ts';
import type { NarCache, NarRecords } from '../core/store/nar-cache.ts';
import { randomAccessOf } from './fs-random-access.ts';
import { openAtomicFile } from './file-sink.ts';
import { sweepStale } from './stale-temporaries.ts';

export class NarCacheDirError extends NixImagerError {
  override name = 'NarCacheDirError';
  readonly code = 'io';
}

/** Our temporaries in the NAR cache: `.<key>.<pid>.<random>.tmp`. */
const NAR_TEMP = /^\.[0-9a-z]{52}\.(?<pid>\d+)\.[0-9a-z]+\.tmp$/;

// Never blocks (a FIFO put at an entry's name would hang open() and with it every signal) and
// never follows a symlink out of the cache.
const ENTRY_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * The NAR cache as a directory of `<nix32 NarHash>.nar` files. Entries are written under a
 * temporary name and renamed into place after verification, so a killed process leaves at
 * worst a stray temporary file (swept when stale), never a bad entry under a real name. Anything
 * at an entry's name that is not a regular file (a FIFO, a directory, a symlink) is removed as a
 * bad entry. Beside each verified entry, `<key>.ok` records that verification (core/store/nar-record.ts)
 * with the file's size, mtime, ctime, device and inode; any write to the file, a `touch` back of its
 * mtime included, changes its ctime and so voids the record.
 */
export function narCacheDir(dir: string): NarCache {
  const ready = mkdir(dir, { recursive: true }).then(
    () => sweepStale(dir, NAR_TEMP),
    (e: unknown) => {
      throw new NarCacheDirError(`cannot create the NAR cache directory ${dir}: ${(e as Error).message}`, { cause: e });
    },
  );
  // Awaited by every use; this only keeps a failure from counting as unhandled before the first.
  ready.catch(() => {});
  const entry = (key: string) => {
    if (!/^[0-9a-z]{52}$/.test(key)) throw new Error(`bad NAR cache key ${JSON.stringify(key)}`);
    return join(dir, `${key}.nar`);
  };
  const temp = (key: string) => join(dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const record = (key: string) => entry(key).replace(/\.nar$/, '.ok');
  const remove = async (key: string) => {
    await rm(record(key), { force: true }).catch(() => {});
    await rm(entry(key), { recursive: true, force: true }).catch((e: unknown) => {
      throw new NarCacheDirError(`${entry(key)} is a bad NAR cache entry and cannot be removed: ${(e as Error).message}`, { cause: e });
    });
  };
  return {
    async open(key): Promise<RandomAccess | null> {
      await ready;
      const handle = await open(entry(key), ENTRY_FLAGS).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        if (e.code !== 'ELOOP') throw e;
        await remove(key);
        return null;
      });
      if (handle === null) return null;
      const st = await handle.stat();
      if (st.isFile()) return randomAccessOf(handle, st.size);
      await handle.close();
      await remove(key);
      return null;
    },
    async create(key) {
      await ready;
      return openAtomicFile(temp(key), entry(key));
    },
    async remove(key) {
      await ready;
      await remove(key);
    },
    records: dirRecords(entry, record, temp),
  };
}

function dirRecords(entry: (key: string) => string, record: (key: string) => string, temp: (key: string) => string): NarRecords {
  return {
    async stamp(key) {
      const st = await lstat(entry(key), { bigint: true }).catch(() => null);
      return st?.isFile() ? `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.dev}:${st.ino}` : null;
    },
    read: (key) => readFile(record(key), 'utf8').catch(() => null),
    async write(key, text) {
      const t = temp(key);
      try {
        await writeFile(t, text, { flag: 'wx', mode: 0o644 });
        await rename(t, record(key));
      } catch (e) {
        await unlink(t).catch(() => {});
        throw e;
      }
    },
  };
}
