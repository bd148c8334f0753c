import { storePathOf } from '../nix/store-path.ts';
import { textToBinary, binaryToText } from '../io/binary-string.ts';
import type { ImageNode } from '../image/tree.ts';
import { NixImagerError } from '../errors.ts';

export class StoreLookupError extends NixImagerError {
  override name = 'StoreLookupError';
  readonly code = 'config';
}

const MAX_SYMLINK_HOPS = 40;

/**
 * Finds the node at `fullPath` (e.g. /nix/store/…-linux/bzImage) in the unpacked store paths,
 * following symlinks on the way as the kernel would (a final symlink is returned as itself, like `cp -a`).
 * `storeRoot(storePath)` yields the unpacked tree of one store path, fetching it if needed.
 */
export async function lookupStoreNode(fullPath: string, storeDir: string, storeRoot: (storePath: string) => Promise<ImageNode>): Promise<ImageNode> {
  let path = fullPath;
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const { storePath, subPath } = storePathOf(path, storeDir);
    const parts = textToBinary(subPath).split('/').filter((p) => p !== '' && p !== '.');
    let node = await storeRoot(storePath);
    let redirect: string | undefined;
    for (let i = 0; i < parts.length; i++) {
      if (node.kind === 'symlink') {
        const target = binaryToText(node.target);
        const dir = i === 0 ? storeDir : `${storePath}/${binaryToText(parts.slice(0, i - 1).join('/'))}`;
        const base = target.startsWith('/') ? target : `${dir}/${target}`;
        redirect = normalize(`${base}/${binaryToText(parts.slice(i).join('/'))}`);
        break;
      }
      if (node.kind !== 'dir') throw new StoreLookupError(`${fullPath}: ${storePath}/${binaryToText(parts.slice(0, i).join('/'))} is not a directory`);
      const next = node.entries.get(parts[i]!);
      if (next === undefined) throw new StoreLookupError(`${fullPath}: no such file or directory in ${storePath}`);
      node = next;
    }
    if (redirect === undefined) return node;
    if (!redirect.startsWith(storeDir + '/')) throw new StoreLookupError(`${fullPath}: a symlink leads outside the store, to ${redirect}`);
    path = redirect;
  }
  throw new StoreLookupError(`${fullPath}: too many levels of symbolic links`);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}
