import type { DataSource } from '../io/data-source.ts';
import { binaryToText, type BinaryString } from '../io/binary-string.ts';
import { NixImagerError } from '../errors.ts';

/**
 * The image as a tree, before any format is chosen: what make-system-tarball.sh and
 * make-iso9660-image.sh build on disk. Names and symlink targets are binary strings
 * (one char per byte). Modes are permission bits only (e.g. 0o444, 0o555, 0o755).
 * Owners are always root and times are set by each writer, so neither is stored.
 */
export interface ImageDir {
  kind: 'dir';
  mode: number;
  entries: Map<BinaryString, ImageNode>;
}

export interface ImageFile {
  kind: 'file';
  mode: number;
  data: DataSource;
}

export interface ImageSymlink {
  kind: 'symlink';
  target: BinaryString;
}

export type ImageNode = ImageDir | ImageFile | ImageSymlink;

export class ImageTreeError extends NixImagerError {
  override name = 'ImageTreeError';
  readonly code = 'image';
}

export function newDir(mode = 0o755): ImageDir {
  return { kind: 'dir', mode, entries: new Map() };
}

/** Splits "/a/b/c" or "a/b/c" into components, refusing anything that would leave the root. */
export function pathComponents(path: BinaryString): BinaryString[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) {
    if (p === '..') throw new ImageTreeError(`target ${JSON.stringify(binaryToText(path))} would land outside the image`);
    if (p.includes('\0')) throw new ImageTreeError(`target ${JSON.stringify(binaryToText(path))} contains a NUL byte`);
  }
  return parts;
}

/**
 * Places `node` at `path`, creating missing parents with `parentMode` (mkdir -p).
 * Two things claiming one path is an error, except a directory merged into a directory.
 */
export function addPath(root: ImageDir, path: BinaryString, node: ImageNode, parentMode = 0o755): void {
  const parts = pathComponents(path);
  const shown = JSON.stringify(binaryToText(path));
  if (parts.length === 0) throw new ImageTreeError(`target ${shown} is the image root`);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    let next = dir.entries.get(part);
    if (next === undefined) {
      next = newDir(parentMode);
      dir.entries.set(part, next);
    }
    if (next.kind !== 'dir') throw new ImageTreeError(`target ${shown}: a parent is already a ${next.kind}`);
    dir = next;
  }
  const name = parts[parts.length - 1]!;
  const existing = dir.entries.get(name);
  if (existing !== undefined) {
    if (existing.kind === 'dir' && node.kind === 'dir') {
      mergeDir(existing, node, shown);
      return;
    }
    throw new ImageTreeError(`target ${shown} is claimed twice`);
  }
  dir.entries.set(name, node);
}

function mergeDir(into: ImageDir, from: ImageDir, shown: string): void {
  for (const [name, child] of from.entries) {
    const existing = into.entries.get(name);
    if (existing === undefined) into.entries.set(name, child);
    else if (existing.kind === 'dir' && child.kind === 'dir') mergeDir(existing, child, shown);
    else throw new ImageTreeError(`target ${shown}: ${JSON.stringify(binaryToText(name))} is claimed twice`);
  }
}

export function lookup(root: ImageDir, path: BinaryString): ImageNode | undefined {
  let node: ImageNode = root;
  for (const part of pathComponents(path)) {
    if (node.kind !== 'dir') return undefined;
    const next: ImageNode | undefined = node.entries.get(part);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

/** Entries of a directory in byte order of their names (strcmp, as GNU tar --sort=name and NAR). */
export function sortedEntries(dir: ImageDir): [BinaryString, ImageNode][] {
  return [...dir.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface WalkEntry {
  /** Path relative to the root, components joined by "/", no leading slash. */
  path: BinaryString;
  node: ImageNode;
  depth: number;
}

/** Pre-order, depth-first, children in byte order: the order GNU tar --sort=name visits a tree. */
export function* walk(root: ImageDir): Generator<WalkEntry> {
  function* visit(dir: ImageDir, prefix: BinaryString, depth: number): Generator<WalkEntry> {
    for (const [name, node] of sortedEntries(dir)) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      yield { path, node, depth };
      if (node.kind === 'dir') yield* visit(node, path, depth + 1);
    }
  }
  yield* visit(root, '', 1);
}

/** Total bytes of file data in the tree. */
export function treeDataSize(root: ImageDir): number {
  let total = 0;
  for (const { node } of walk(root)) if (node.kind === 'file') total += node.data.size;
  return total;
}
