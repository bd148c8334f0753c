import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { newDir, type ImageDir, type ImageNode } from '../core/image/tree.ts';
import { bytesToBinary } from '../core/io/binary-string.ts';
import { fileSource } from './fs-random-access.ts';

/**
 * Reads a directory on disk into an image tree (cp -a semantics: modes kept, symlinks not followed).
 * Paths are handled as raw bytes, so names that are not UTF-8 survive.
 */
export function treeFromDisk(dir: string): ImageDir {
  const node = nodeFromDisk(Buffer.from(dir));
  if (node.kind !== 'dir') throw new Error(`${dir} is not a directory`);
  return node;
}

export function nodeFromDisk(path: Buffer): ImageNode {
  const st = lstatSync(path);
  const mode = st.mode & 0o7777;
  if (st.isSymbolicLink()) return { kind: 'symlink', target: bytesToBinary(readlinkSync(path, { encoding: 'buffer' })) };
  if (st.isFile()) return { kind: 'file', mode, data: fileSource(path, st.size) };
  if (!st.isDirectory()) throw new Error(`${path.toString()}: not a regular file, directory or symlink`);
  const out = newDir(mode);
  for (const name of readdirSync(path, { encoding: 'buffer' })) {
    out.entries.set(bytesToBinary(name), nodeFromDisk(Buffer.concat([path, Buffer.from('/'), name])));
  }
  return out;
}
