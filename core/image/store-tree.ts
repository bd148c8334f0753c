import type { NarEntry } from '../nix/nar-reader.ts';
import type { RandomAccess } from '../io/data-source.ts';
import { sliceSource } from '../io/data-source.ts';
import { newDir, type ImageDir, type ImageNode } from './tree.ts';

/**
 * The tree a NAR unpacks to, as Nix leaves it in the store: directories 0555,
 * files 0444 or 0555 when executable. File data is read from the stored NAR by offset.
 */
export function narTree(entries: readonly NarEntry[], open: () => Promise<RandomAccess>): ImageNode {
  let root: ImageNode | undefined;
  const dirs = new Map<string, ImageDir>();
  for (const e of entries) {
    let node: ImageNode;
    switch (e.type) {
      case 'directory': {
        const dir = newDir(0o555);
        dirs.set(e.path, dir);
        node = dir;
        break;
      }
      case 'regular':
        node = { kind: 'file', mode: e.executable ? 0o555 : 0o444, data: sliceSource(open, e.offset, e.size) };
        break;
      case 'symlink':
        node = { kind: 'symlink', target: e.target };
        break;
    }
    if (e.path === '') {
      root = node;
      continue;
    }
    const slash = e.path.lastIndexOf('/');
    const parent = dirs.get(slash < 0 ? '' : e.path.slice(0, slash));
    if (parent === undefined) throw new Error(`NAR listing out of order at ${JSON.stringify(e.path)}`);
    parent.entries.set(e.path.slice(slash + 1), node);
  }
  if (root === undefined) throw new Error('empty NAR listing');
  return root;
}
