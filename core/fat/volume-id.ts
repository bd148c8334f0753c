// A volume serial number that depends only on what the volume holds: the first 4 bytes of a
// SHA-256 over the label, size, time and every path with its size (mkfs.fat picks one from the clock).
import { createSha256 } from '../primitives/sha256.ts';
import type { DirPlan } from './layout.ts';

export function volumeIdOf(plan: DirPlan, size: number, label: string, mtime: number): number {
  const h = createSha256();
  const text = new TextEncoder();
  h.update(text.encode(`nix-imager FAT volume\0${label}\0${size}\0${mtime}\0`));
  const visit = (d: DirPlan) => {
    let listing = '';
    for (const { name, target } of d.children) listing += `${target.path}\0${name.long ?? ''}\0${target.kind === 'file' ? target.file.data.size : -1}\0`;
    h.update(text.encode(listing));
    for (const { target } of d.children) if (target.kind === 'dir') visit(target);
  };
  visit(plan);
  return new DataView(h.digest().buffer).getUint32(0, true);
}
