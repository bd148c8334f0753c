import { formatNixHash, type NixHash } from './hash.ts';

export interface RegistrationEntry {
  path: string;
  narHash: NixHash;
  narSize: number;
  references: string[];
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function sortedPaths(paths: string[]): string[] {
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * nixpkgs closureInfo's `registration` file (input of `nix-store --load-db`): per path,
 * sorted by path: the path, `sha256:<nix32>`, the NAR size, an empty deriver line,
 * the reference count, then the sorted references; one line each.
 */
export function registrationText(paths: RegistrationEntry[]): string {
  const lines: string[] = [];
  for (const p of [...paths].sort(byPath)) {
    lines.push(p.path, formatNixHash(p.narHash), String(p.narSize), '', String(p.references.length), ...sortedPaths(p.references));
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** closureInfo's `store-paths` file: the sorted paths, one a line. */
export function storePathsText(paths: { path: string }[]): string {
  return sortedPaths(paths.map((p) => p.path))
    .map((p) => `${p}\n`)
    .join('');
}

/** closureInfo's `total-nar-size`. */
export function totalNarSizeText(paths: { narSize: number }[]): string {
  return `${paths.reduce((sum, p) => sum + p.narSize, 0)}\n`;
}
