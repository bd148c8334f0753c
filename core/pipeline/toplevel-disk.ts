// A disk image from a NixOS toplevel alone: reads the toplevel's own NAR (nothing else is
// downloaded until it proves bootable from a disk), then lays out what nixos-install and
// systemd-boot's builder leave: the closure, the Nix database and the system profile on the root,
// systemd-boot with generation 1's entry, kernel and initrd on the ESP.
import { resolvePaths, type ResolvedPath } from '../cache/resolve.ts';
import { addPath, newDir, type ImageDir, type ImageNode } from '../image/tree.ts';
import { textToBinary } from '../io/binary-string.ts';
import { bytesSource } from '../io/data-source.ts';
import { nixDatabase, type SqliteLoader } from '../nixdb/nix-database.ts';
import { diskSystem, espFiles, NIXOS_MARKER, PROFILE_LINKS, ROOT_DIRS, type DiskSystem } from '../nixos/disk-system.ts';
import type { EfiFile } from '../nixos/live-iso.ts';
import { expectSystem, readToplevel, ToplevelError } from '../nixos/toplevel.ts';
import { storePathOf } from '../nix/store-path.ts';
import type { BuildConfig } from './config.ts';
import { storeReader, type Sources } from './toplevel-plan.ts';

export interface DiskPlan {
  /** The config with the toplevel as the one store object. */
  config: BuildConfig;
  system: DiskSystem;
  esp: EfiFile[];
}

/** Plans the disk image of `config.toplevel`; refuses, naming the toplevel, one that cannot boot from an EFI disk. */
export async function planDiskImage(config: BuildConfig, sources: Sources): Promise<DiskPlan> {
  const top = config.toplevel!;
  const closure = await resolvePaths([top], sources.caches, { ...sources.resolveOpts, closure: true });
  const t = await readToplevel(top, storeReader(closure, sources).lookupIn([top]));
  expectSystem(t, config.system);
  const system = diskSystem(t);
  for (const [what, file] of [['kernel', system.kernel], ['initrd', system.initrd], ['systemd-boot', system.systemdBoot]] as const) {
    if (!closure.has(storePathOf(file).storePath)) throw new ToplevelError(top, `its ${what} ${file} is not in its closure`);
  }
  return {
    config: { ...config, storeContents: [{ object: top, symlink: null }, ...config.storeContents.filter((s) => s.object !== top)] },
    system,
    esp: espFiles(system, config.disk!.bootTimeout, config.sourceDateEpoch),
  };
}

/** The ESP's tree from its file list; `storeFile` reads a file of the closure. */
export async function espTree(files: readonly EfiFile[], storeFile: (path: string) => Promise<ImageNode>): Promise<ImageDir> {
  const esp = newDir(0o755);
  for (const f of files) {
    const node: ImageNode = 'text' in f ? { kind: 'file', mode: 0o644, data: bytesSource(new TextEncoder().encode(f.text)) } : await storeFile(f.storeFile);
    addPath(esp, textToBinary(f.path), node);
  }
  return esp;
}

/** /nix/var/nix/db/db.sqlite as `nix-store --load-db` would leave it for the closure, registered at `epoch`. */
export function closureDatabase(closure: readonly string[], resolved: Map<string, ResolvedPath>, sqlite: SqliteLoader, epoch: number): Promise<Uint8Array> {
  const entries = closure.map((p) => {
    const i = resolved.get(p)!.info;
    return { path: i.storePath, narHash: i.narHash, narSize: i.narSize, references: i.references, deriver: i.deriver, sigs: i.sigs, ca: i.ca };
  });
  return nixDatabase(entries, { sqlite, registrationTime: epoch });
}

/** Adds to `root` what nixos-install adds beside the store: the database, the profile links, /etc/NIXOS and the directories. */
export function addInstalledSystem(root: ImageDir, toplevel: string, database: Uint8Array): void {
  for (const d of ROOT_DIRS) addPath(root, textToBinary(d), newDir(0o755));
  addPath(root, textToBinary('/nix/var/nix/db/db.sqlite'), { kind: 'file', mode: 0o644, data: bytesSource(database) });
  for (const l of PROFILE_LINKS) addPath(root, textToBinary(l.path), { kind: 'symlink', target: textToBinary(l.target(toplevel)) });
  addPath(root, textToBinary(NIXOS_MARKER), { kind: 'file', mode: 0o644, data: bytesSource(new Uint8Array(0)) });
}
