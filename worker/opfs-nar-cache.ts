import type { NarCache, NarRecords } from '../core/store/nar-cache.ts';
import { fileEntries, fileIfExists, removeIfExists } from './opfs.ts';
import { createOpfsSink } from './opfs-sink.ts';
import { opfsRandomAccess } from './opfs-random-access.ts';
import { NixImagerError } from '../core/errors.ts';

export interface OpfsNarCache extends NarCache {
  has(key: string): Promise<boolean>;
  /** Committed entries and their bytes. */
  usage(): Promise<{ entries: number; bytes: number }>;
  /** Removes every entry and every leftover temporary file not in use. */
  clear(): Promise<void>;
  /** Removes temporary files a closed tab or crash left behind (files still being written are locked and stay). */
  sweep(): Promise<void>;
}

export class NarCacheKeyError extends NixImagerError {
  override name = 'NarCacheKeyError';
  readonly code = 'io';
}

const entryName = (key: string) => {
  if (!/^[0-9a-z]{52}$/.test(key)) throw new NarCacheKeyError(`bad NAR cache key ${JSON.stringify(key)}`);
  return `${key}.nar`;
};
const recordName = (key: string) => entryName(key).replace(/\.nar$/, '.ok');

/** `<key>.ok` beside each verified entry, void once the entry's size or lastModified changed. */
function opfsRecords(dir: FileSystemDirectoryHandle): NarRecords {
  return {
    async stamp(key) {
      const file = await (await fileIfExists(dir, entryName(key)))?.getFile();
      return file === undefined ? null : `${file.size}:${file.lastModified}`;
    },
    async read(key) {
      const file = await fileIfExists(dir, recordName(key));
      return file === null ? null : (await file.getFile()).text();
    },
    async write(key, text) {
      const sink = await createOpfsSink(dir, recordName(key));
      try {
        await sink.write(new TextEncoder().encode(text));
        await sink.close();
      } catch (e) {
        await sink.abort();
        throw e;
      }
    },
  };
}

/**
 * Verified, uncompressed NARs as `<key>.nar` files in an OPFS directory. Writes go to a temporary
 * name through a sync access handle and are renamed into place on commit, so a closed tab or a crash
 * leaves at worst a stray temporary file, never a bad entry under a real key. Each verified entry has
 * its verification record `<key>.ok` beside it (core/store/nar-record.ts).
 */
export function opfsNarCache(dir: FileSystemDirectoryHandle): OpfsNarCache {
  async function removeAll(pred: (name: string) => boolean): Promise<void> {
    const names: string[] = [];
    for await (const f of fileEntries(dir)) if (pred(f.name)) names.push(f.name);
    for (const name of names) {
      // A file another tab is still writing is locked by its sync handle: leave it.
      await dir.removeEntry(name).catch(() => {});
    }
  }
  return {
    async open(key) {
      const file = await fileIfExists(dir, entryName(key));
      return file === null ? null : opfsRandomAccess(file);
    },
    async create(key) {
      const sink = await createOpfsSink(dir, entryName(key));
      return { write: (chunk) => sink.write(chunk), commit: () => sink.close(), abort: () => sink.abort() };
    },
    async has(key) {
      return (await fileIfExists(dir, entryName(key))) !== null;
    },
    async remove(key) {
      await removeIfExists(dir, recordName(key));
      await removeIfExists(dir, entryName(key));
    },
    records: opfsRecords(dir),
    async usage() {
      let entries = 0;
      let bytes = 0;
      for await (const f of fileEntries(dir)) {
        if (!f.name.endsWith('.nar') || f.name.startsWith('.')) continue;
        entries++;
        bytes += (await f.getFile()).size;
      }
      return { entries, bytes };
    },
    clear: () => removeAll(() => true),
    sweep: () => removeAll((name) => name.startsWith('.') && name.endsWith('.tmp')),
  };
}
