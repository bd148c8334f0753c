import { close as closeFd, constants, open as openFd, write as writeFd } from 'node:fs';
import { lstat, open, readlink, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { NixImagerError } from '../core/errors.ts';
import type { ByteSink, HoleSink, SeekableSink } from '../core/io/sink.ts';

/** A file could not be created, written or put in place; the message names it. */
export class FileWriteError extends NixImagerError {
  override name = 'FileWriteError';
  readonly code = 'io';
}

const named = (what: string, e: unknown) => new FileWriteError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });

/** A file written under `temp`, fsynced and renamed to `final` only by commit(); abort() deletes it. */
export interface AtomicFile {
  write(chunk: Uint8Array): Promise<void>;
  /** Leaves `length` bytes as a hole (they read as zeros). */
  skip(length: number): void;
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openAtomicFile(temp: string, final: string): Promise<AtomicFile> {
  const handle = await open(temp, 'wx', 0o644).catch((e: unknown) => {
    throw named(`cannot create ${temp}`, e);
  });
  let size = 0;
  let finished = false;
  const writeAll = async (bytes: Uint8Array, position: number) => {
    try {
      for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
    } catch (e) {
      throw named(`writing ${final} failed`, e);
    }
  };
  return {
    async write(chunk) {
      await writeAll(chunk, size);
      size += chunk.length;
    },
    skip(length) {
      size += length;
    },
    async writeAt(offset, bytes) {
      if (offset + bytes.length > size) throw new Error(`writeAt past the end of ${final}`);
      await writeAll(bytes, offset);
    },
    async commit() {
      if (finished) return;
      finished = true;
      try {
        await handle.truncate(size);
        await handle.sync();
        await handle.close();
        await rename(temp, final);
      } catch (e) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
        throw named(`cannot put ${final} in place`, e);
      }
    },
    async abort() {
      if (finished) return;
      finished = true;
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/** Our temporaries beside an output: `.<name>.part-<pid>-<time>` (what sweepStale looks for). */
export const OUTPUT_TEMP = /^\..*\.part-(?<pid>\d+)-[0-9a-z]+$/;
const NAME_MAX = 255;

/** `.<name>.part-<pid>-<time>`, the name cut so the whole fits in NAME_MAX bytes (a 250-byte name stays valid). */
export function tempNameFor(name: string): string {
  const suffix = `.part-${process.pid}-${Date.now().toString(36)}`;
  let base = name;
  while (Buffer.byteLength(`.${base}${suffix}`) > NAME_MAX) base = base.slice(0, -1);
  return `.${base}${suffix}`;
}

/** A temporary name beside `path`, for a file renamed over it once complete. */
export const tempBeside = (path: string) => join(dirname(path), tempNameFor(basename(path)));

/**
 * Writes to a temporary name beside `path` and renames it over `path` only on close(),
 * so a failed or interrupted build never leaves a half-written file under the output name.
 */
export async function createFileSink(path: string): Promise<SeekableSink & HoleSink> {
  const file = await openAtomicFile(tempBeside(path), path);
  return { write: file.write, writeAt: file.writeAt, skip: async (n) => file.skip(n), close: file.commit, abort: file.abort };
}

const writeTo = promisify(writeFd);
const closeTo = promisify(closeFd);

/** Bytes written straight into an open descriptor (a device, a FIFO, standard output), in order. */
function descriptorSink(fd: number, what: string, owned: boolean): ByteSink {
  const done = () => (owned ? closeTo(fd) : Promise.resolve());
  return {
    async write(chunk) {
      try {
        for (let at = 0; at < chunk.length; ) at += (await writeTo(fd, chunk, at, chunk.length - at)).bytesWritten;
      } catch (e) {
        throw named(`writing ${what} failed`, e);
      }
    },
    close: done,
    abort: () => done().catch(() => {}),
  };
}

/** Where a symlink chain ends (the path it names, existing or not). */
async function followLinks(path: string): Promise<string> {
  for (let hops = 0; hops < 40; hops++) {
    const st = await lstat(path).catch(() => null);
    if (st === null || !st.isSymbolicLink()) return path;
    path = resolve(dirname(path), await readlink(path));
  }
  throw new FileWriteError(`${path}: too many levels of symbolic links`);
}

/**
 * The sink for `--output`: `-` is standard output; an existing device node or FIFO is written into
 * directly (it cannot be replaced, and `-o /dev/null` must not become a file); a symlink is followed
 * and the file it names replaced atomically; anything else is replaced atomically (createFileSink).
 */
export async function createOutputSink(path: string, signal?: AbortSignal): Promise<ByteSink> {
  if (path === '-') return descriptorSink(1, 'standard output', false);
  const target = await followLinks(path);
  const st = await stat(target).catch(() => null);
  if (st === null || st.isFile()) return createFileSink(target);
  if (st.isDirectory()) throw new FileWriteError(`${target} is a directory`);
  const probe = st.isFIFO() ? await readerOf(target, signal) : undefined;
  try {
    const fd = await openPath(target, constants.O_WRONLY).catch((e: unknown) => {
      throw named(`cannot open ${target}`, e);
    });
    return descriptorSink(fd, target, true);
  } finally {
    if (probe !== undefined) await closeTo(probe);
  }
}

const openPath = promisify(openFd);

/**
 * Waits, as `cat > fifo` does, until the FIFO has a reader, but without a blocking open() (which no
 * signal could interrupt): a non-blocking open for writing fails with ENXIO while nobody reads.
 * Returns that open descriptor: held until the real (blocking) one is open, so the reader never
 * sees its writers gone (an end of file) in between.
 */
async function readerOf(fifo: string, signal: AbortSignal | undefined): Promise<number> {
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await openPath(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw named(`cannot open ${fifo}`, e);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
