import { walk, type ImageDir, type ImageNode } from '../image/tree.ts';
import { binaryToBytes, binaryToText, type BinaryString } from '../io/binary-string.ts';
import { Batcher } from '../io/batcher.ts';
import { readAhead } from '../io/read-ahead.ts';
import { CpioError } from './cpio-error.ts';
import { MAX_FIELD, S_IFDIR, S_IFLNK, S_IFREG, TRAILER_NAME, headerBytes, pad4, putNewcHeader, type NewcFields } from './newc-header.ts';

export interface CpioOptions {
  /** Seconds since the epoch stamped on every entry (SOURCE_DATE_EPOCH). */
  mtime: number;
}

/** GNU cpio writes 512-byte blocks, so its archives end in zeros up to a whole block. */
const BLOCK = 512;

interface Member {
  /** "." for the root, else the path below it, as `find . | sort` lists it without the "./". */
  path: BinaryString;
  node: ImageNode;
}

/**
 * The root, then every path in byte order of the whole path (LC_ALL=C sort of find's output):
 * parents come before children, but "a-b" before "a/c", unlike a walk of sorted directories.
 */
function members(root: ImageDir): Member[] {
  const below: Member[] = [];
  for (const { path, node } of walk(root)) below.push({ path, node });
  below.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [{ path: '.', node: root }, ...below];
}

function subdirectories(dir: ImageDir): number {
  let n = 0;
  for (const child of dir.entries.values()) if (child.kind === 'dir') n++;
  return n;
}

function fieldsOf({ path, node }: Member, ino: number, mtime: number): NewcFields {
  const shown = () => JSON.stringify(binaryToText(path));
  switch (node.kind) {
    case 'dir':
      return { ino, mode: S_IFDIR | (node.mode & 0o7777), nlink: 2 + subdirectories(node), mtime, fileSize: 0, name: path };
    case 'file':
      if (node.data.size > MAX_FIELD) throw new CpioError(`file ${shown()} is ${node.data.size} bytes; newc cpio holds files below 4 GiB only`);
      return { ino, mode: S_IFREG | (node.mode & 0o7777), nlink: 1, mtime, fileSize: node.data.size, name: path };
    case 'symlink':
      return { ino, mode: S_IFLNK | 0o777, nlink: 1, mtime, fileSize: node.target.length, name: path };
  }
}

function checkMtime(mtime: number): void {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_FIELD) throw new CpioError(`mtime ${mtime} is not a whole number of seconds from 0 to ${MAX_FIELD}`);
}

function trailer(): NewcFields {
  return { ino: 0, mode: 0, nlink: 1, mtime: 0, fileSize: 0, name: TRAILER_NAME };
}

function memberBytes(f: NewcFields): number {
  return headerBytes(f.name.length) + f.fileSize + pad4(f.fileSize);
}

function endPadding(total: number): number {
  return (BLOCK - (total % BLOCK)) % BLOCK;
}

/** The exact byte length cpioStream will produce for this tree, without reading any file. */
export function cpioSize(root: ImageDir): number {
  let total = memberBytes(trailer());
  members(root).forEach((m, ino) => (total += memberBytes(fieldsOf(m, ino, 0))));
  return total + endPadding(total);
}

/**
 * The newc archive `cd DIR && find . | LC_ALL=C sort | cpio -o -H newc --reproducible -R +0:+0`
 * writes for this tree once every mtime is `mtime` (GNU cpio 2.13), byte for byte: inodes
 * numbered 0, 1, … in archive order, directories' nlink 2 + their subdirectories, devices 0,
 * file data streamed from each DataSource, the TRAILER!!! entry and zeros to a 512-byte block.
 * The kernel unpacks it as an initramfs, also appended to another (compressed) initramfs.
 */
export async function* cpioStream(root: ImageDir, opts: CpioOptions): AsyncGenerator<Uint8Array> {
  checkMtime(opts.mtime);
  const list = members(root);
  // All fields first: a tree newc cannot hold fails before any byte is written.
  const fields = list.map((m, ino) => fieldsOf(m, ino, opts.mtime));
  const out = new Batcher();
  let total = 0;
  const put = (f: NewcFields) => {
    const size = headerBytes(f.name.length);
    const { buffer, at } = out.reserve(size);
    putNewcHeader(buffer, at, f);
    total += size;
  };
  let ino = 0;
  for (const { item: m, data } of readAhead(list.values(), (m) => (m.node.kind === 'file' ? m.node.data : undefined))) {
    const f = fields[ino++]!;
    put(f);
    if (m.node.kind === 'symlink') out.put(binaryToBytes(m.node.target));
    if (m.node.kind === 'file') {
      let got = 0;
      for await (const chunk of data ? await data : m.node.data.stream()) {
        got += chunk.length;
        if (got > f.fileSize) break;
        out.put(chunk);
        if (out.pending) yield* out.take();
      }
      if (got !== f.fileSize) {
        throw new CpioError(`file ${JSON.stringify(binaryToText(m.path))}: its data source yielded ${got > f.fileSize ? 'more than' : got} bytes, but its size is ${f.fileSize}`);
      }
    }
    out.zeros(pad4(f.fileSize));
    total += f.fileSize + pad4(f.fileSize);
    if (out.pending) yield* out.take();
  }
  put(trailer());
  out.zeros(endPadding(total));
  out.flush();
  yield* out.take();
}
