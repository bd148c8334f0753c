import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { NarCache } from '../core/store/nar-cache.ts';
import { openRandomAccess } from './fs-random-access.ts';
import { openAtomicFile } from './file-sink.ts';

/**
 * The NAR cache as a directory of `<nix32 NarHash>.nar` files. Entries are written under a
 * temporary name and renamed into place after verification, so a killed process leaves at
 * worst a stray temporary file, never a bad entry under a real name.
 */
export function narCacheDir(dir: string): NarCache {
  const ready = mkdir(dir, { recursive: true });
  const entry = (key: string) => {
    if (!/^[0-9a-z]{52}$/.test(key)) throw new Error(`bad NAR cache key ${JSON.stringify(key)}`);
    return join(dir, `${key}.nar`);
  };
  return {
    async open(key) {
      await ready;
      try {
        return await openRandomAccess(entry(key));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async create(key) {
      await ready;
      const final = entry(key);
      const temp = join(dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
      return openAtomicFile(temp, final);
    },
    async remove(key) {
      await unlink(entry(key)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    },
  };
}
