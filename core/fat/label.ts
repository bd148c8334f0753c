// The volume label, kept in the boot sector and as the root directory's first entry: up to 11
// characters, space padded, in the set mkfs.fat accepts.
import { FatError } from './fat-error.ts';

const NOT_IN_LABEL = new Set('*?.,;:/\\|+=<>[]"');

export function labelBytes(label: string): Uint8Array {
  const shown = JSON.stringify(label);
  if (label.length === 0 || label.length > 11) throw new FatError(`volume label ${shown} must be 1 to 11 characters`);
  for (const c of label) {
    if (c < ' ' || c > '~' || NOT_IN_LABEL.has(c)) throw new FatError(`volume label ${shown} cannot hold ${JSON.stringify(c)} (printable ASCII only, none of *?.,;:/\\|+=<>[]")`);
  }
  if (label.startsWith(' ')) throw new FatError(`volume label ${shown} cannot start with a space`);
  return new TextEncoder().encode(label.padEnd(11, ' '));
}
