import type { NarEntry } from '../nix/nar-reader.ts';
import type { RandomAccess } from '../io/data-source.ts';
import { sliceSource } from '../io/data-source.ts';
import type { BinaryString } from '../io/binary-string.ts';
import { newDir, type ImageDir, type ImageNode } from './tree.ts';

const DIRECTORY = 0;
const REGULAR = 1;
const EXECUTABLE = 2;
const SYMLINK = 3;

/** Per entry: kind + 4 × depth, then offset and size of file data (a symlink: where its target starts and ends in `text`), then where its name ends in `text`. */
const CELLS = 4;

/**
 * A NAR listing packed into one Float64Array and one string: about 40 bytes a file where
 * NarEntry objects take hundreds. A closure of 300 000 files keeps every listing for the whole
 * build; this is what lets a tarball be written holding only one store path's tree at a time.
 */
export class NarListing {
  private constructor(
    private readonly cells: Float64Array,
    /** Names and symlink targets, in entry order; a name starts where the previous name or target ended. */
    private readonly text: BinaryString,
  ) {}

  static pack(entries: readonly NarEntry[]): NarListing {
    const cells = new Float64Array(entries.length * CELLS);
    const text: string[] = [];
    let at = 0;
    entries.forEach((e, i) => {
      const c = i * CELLS;
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      const depth = e.path === '' ? 0 : countSlashes(e.path) + 1;
      text.push(name);
      at += name.length;
      cells[c + 3] = at;
      switch (e.type) {
        case 'directory':
          cells[c] = DIRECTORY + 4 * depth;
          break;
        case 'regular':
          cells[c] = (e.executable ? EXECUTABLE : REGULAR) + 4 * depth;
          cells[c + 1] = e.offset;
          cells[c + 2] = e.size;
          break;
        case 'symlink':
          cells[c] = SYMLINK + 4 * depth;
          text.push(e.target);
          cells[c + 1] = at;
          at += e.target.length;
          cells[c + 2] = at;
          break;
      }
    });
    return new NarListing(cells, text.join(''));
  }

  get rootIsDirectory(): boolean {
    return this.cells[0]! % 4 === DIRECTORY;
  }

  /**
   * The tree the NAR unpacks to, as Nix leaves it in the store: directories 0555, files 0444 or
   * 0555 when executable. File data is read from the stored NAR by offset.
   */
  tree(open: () => Promise<RandomAccess>): ImageNode {
    const { cells, text } = this;
    // The directories open at each depth, in NAR pre-order.
    const parents: ImageDir[] = [];
    let root: ImageNode | undefined;
    let nameStart = 0;
    for (let c = 0; c < cells.length; c += CELLS) {
      const kind = cells[c]! % 4;
      const depth = (cells[c]! - kind) / 4;
      const a = cells[c + 1]!;
      const b = cells[c + 2]!;
      const nameEnd = cells[c + 3]!;
      let node: ImageNode;
      switch (kind) {
        case DIRECTORY:
          node = newDir(0o555);
          break;
        case REGULAR:
        case EXECUTABLE:
          node = { kind: 'file', mode: kind === EXECUTABLE ? 0o555 : 0o444, data: sliceSource(open, a, b) };
          break;
        default:
          node = { kind: 'symlink', target: text.slice(a, b) };
      }
      if (depth === 0) root = node;
      else {
        const parent = parents[depth - 1];
        if (parent === undefined) throw new Error('NAR listing out of order');
        parent.entries.set(text.slice(nameStart, nameEnd), node);
      }
      nameStart = kind === SYMLINK ? b : nameEnd;
      if (node.kind === 'dir') parents[depth] = node;
    }
    if (root === undefined) throw new Error('empty NAR listing');
    return root;
  }
}

function countSlashes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('/'); i >= 0; i = s.indexOf('/', i + 1)) n++;
  return n;
}

/**
 * A store path's tree for a writer that walks the image once, in order (tar): a directory root is
 * built anew from the listing each time its entries are asked for, and is garbage once walked.
 */
export function streamedNarTree(listing: NarListing, open: () => Promise<RandomAccess>): ImageNode {
  if (!listing.rootIsDirectory) return listing.tree(open);
  return {
    kind: 'dir',
    mode: 0o555,
    get entries() {
      return (listing.tree(open) as ImageDir).entries;
    },
  };
}
