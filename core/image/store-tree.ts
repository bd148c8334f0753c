import type { NarEntry } from '../nix/nar-reader.ts';
import type { RandomAccess } from '../io/data-source.ts';
import { sliceSource } from '../io/data-source.ts';
import type { BinaryString } from '../io/binary-string.ts';
import { newDir, type ImageDir, type ImageNode } from './tree.ts';

const DIRECTORY = 0;
const REGULAR = 1;
const EXECUTABLE = 2;
const SYMLINK = 3;

/**
 * A NAR listing packed into a few typed arrays and one string: about 30 bytes a file where
 * NarEntry objects take hundreds. A closure of 300 000 files keeps every listing for the whole
 * build; this is what lets a tarball be written holding only one store path's tree at a time.
 */
export class NarListing {
  private constructor(
    private readonly kinds: Uint8Array,
    private readonly depths: Uint32Array,
    /** File data offset and size; for a symlink, where its target starts and ends in `text`. */
    private readonly offsets: Float64Array,
    private readonly sizes: Float64Array,
    /** Where each entry's name ends in `text` (it starts where the previous one's name or target ended). */
    private readonly nameEnds: Float64Array,
    private readonly text: BinaryString,
  ) {}

  static pack(entries: readonly NarEntry[]): NarListing {
    const n = entries.length;
    const kinds = new Uint8Array(n);
    const depths = new Uint32Array(n);
    const offsets = new Float64Array(n);
    const sizes = new Float64Array(n);
    const nameEnds = new Float64Array(n);
    const text: string[] = [];
    let at = 0;
    entries.forEach((e, i) => {
      const slash = e.path.lastIndexOf('/');
      const name = e.path.slice(slash + 1);
      depths[i] = e.path === '' ? 0 : countSlashes(e.path) + 1;
      text.push(name);
      at += name.length;
      nameEnds[i] = at;
      switch (e.type) {
        case 'directory':
          kinds[i] = DIRECTORY;
          break;
        case 'regular':
          kinds[i] = e.executable ? EXECUTABLE : REGULAR;
          offsets[i] = e.offset;
          sizes[i] = e.size;
          break;
        case 'symlink':
          kinds[i] = SYMLINK;
          text.push(e.target);
          offsets[i] = at;
          at += e.target.length;
          sizes[i] = at;
          break;
      }
    });
    return new NarListing(kinds, depths, offsets, sizes, nameEnds, text.join(''));
  }

  get rootIsDirectory(): boolean {
    return this.kinds[0] === DIRECTORY;
  }

  /**
   * The tree the NAR unpacks to, as Nix leaves it in the store: directories 0555, files 0444 or
   * 0555 when executable. File data is read from the stored NAR by offset.
   */
  tree(open: () => Promise<RandomAccess>): ImageNode {
    const { kinds, depths, offsets, sizes, nameEnds, text } = this;
    // The directories open at each depth, in NAR pre-order.
    const parents: ImageDir[] = [];
    let root: ImageNode | undefined;
    for (let i = 0; i < kinds.length; i++) {
      let node: ImageNode;
      switch (kinds[i]) {
        case DIRECTORY:
          node = newDir(0o555);
          break;
        case REGULAR:
        case EXECUTABLE:
          node = { kind: 'file', mode: kinds[i] === EXECUTABLE ? 0o555 : 0o444, data: sliceSource(open, offsets[i]!, sizes[i]!) };
          break;
        default:
          node = { kind: 'symlink', target: text.slice(offsets[i]!, sizes[i]!) };
      }
      const depth = depths[i]!;
      if (depth === 0) root = node;
      else {
        const start = i === 0 ? 0 : kinds[i - 1] === SYMLINK ? sizes[i - 1]! : nameEnds[i - 1]!;
        const parent = parents[depth - 1];
        if (parent === undefined) throw new Error('NAR listing out of order');
        parent.entries.set(text.slice(start, nameEnds[i]!), node);
      }
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
