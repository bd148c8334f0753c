// A test-side NAR writer, written from the format description, to craft valid and hostile archives.
import { binaryToBytes, type BinaryString } from '../../core/io/binary-string.ts';
import { concatBytes } from '../../core/io/bytes.ts';

export type NarNode =
  | { type: 'regular'; contents: Uint8Array; executable?: boolean }
  | { type: 'symlink'; target: BinaryString }
  | { type: 'directory'; entries: [name: BinaryString, node: NarNode][] };

/** One framed NAR string: little-endian u64 length, the bytes, zero padding to 8. */
export function narStr(s: string | Uint8Array): Uint8Array {
  const bytes = typeof s === 'string' ? binaryToBytes(s) : s;
  const out = new Uint8Array(8 + Math.ceil(bytes.length / 8) * 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes.length), true);
  out.set(bytes, 8);
  return out;
}

/** The token sequence of a node, entries written in the order given (sort them for a valid NAR). */
export function narNodeParts(node: NarNode, parts: Uint8Array[] = []): Uint8Array[] {
  parts.push(narStr('('), narStr('type'));
  if (node.type === 'regular') {
    parts.push(narStr('regular'));
    if (node.executable) parts.push(narStr('executable'), narStr(''));
    parts.push(narStr('contents'), narStr(node.contents));
  } else if (node.type === 'symlink') {
    parts.push(narStr('symlink'), narStr('target'), narStr(node.target));
  } else {
    parts.push(narStr('directory'));
    for (const [name, child] of node.entries) {
      parts.push(narStr('entry'), narStr('('), narStr('name'), narStr(name), narStr('node'));
      narNodeParts(child, parts);
      parts.push(narStr(')'));
    }
  }
  parts.push(narStr(')'));
  return parts;
}

export function writeNar(node: NarNode): Uint8Array {
  return concatBytes(narNodeParts(node, [narStr('nix-archive-1')]));
}

/** Sorts every directory's entries by name bytes, as a valid NAR needs. */
export function sortedTree(node: NarNode): NarNode {
  if (node.type !== 'directory') return node;
  const entries = node.entries.map(([n, c]): [BinaryString, NarNode] => [n, sortedTree(c)]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { type: 'directory', entries };
}
