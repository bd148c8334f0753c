// What a toplevel is, read from the caches before any image is chosen: its closure (narinfos
// only) and the toplevel's own NAR, so the page can show the system and the images that suit it.
import type { ResolvedPath } from '../cache/resolve.ts';
import { rootLabel } from '../nixos/live-iso.ts';
import { readToplevel, type Toplevel } from '../nixos/toplevel.ts';
import type { Platform } from '../platform.ts';
import type { BuildConfig } from './config.ts';
import { resolveSettings } from './build-image.ts';
import type { ProgressListener } from './progress.ts';
import { resolvePaths } from '../cache/resolve.ts';
import { storeReader } from './toplevel-plan.ts';

export interface ToplevelReport {
  toplevel: Toplevel;
  closure: ResolvedPath[];
  /** The volume its stage 1 waits for (root=LABEL=): set for a live system. */
  liveLabel: string | undefined;
  /** Which kinds of image its stage 1 was built for; tarballs suit every system. */
  suits: { liveIso: boolean; disk: boolean; netboot: boolean };
}

export async function inspectToplevel(config: BuildConfig, platform: Platform, opts: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<ToplevelReport> {
  const top = config.toplevel!;
  const { caches, opts: resolveOpts } = resolveSettings(config, platform.fetch, platform.ed25519Verify, opts.signal);
  const closure = await resolvePaths([top], caches, {
    ...resolveOpts,
    closure: true,
    onProgress: (done, total) => opts.onProgress?.({ stage: 'narinfo', done, total }),
  });
  const store = storeReader(closure, { caches, resolveOpts, narCache: platform.narCache, narOptions: { signal: opts.signal, sha256: platform.sha256, codecs: platform.codecs } });
  const toplevel = await readToplevel(top, store.lookupIn([top]));
  const liveLabel = rootLabel(toplevel.kernelParams);
  const bootable = toplevel.kernel !== undefined && toplevel.initrd !== undefined;
  return {
    toplevel,
    closure: [...closure.values()],
    liveLabel,
    // A disk system's stage 1 mounts its root by fileSystems, not by the medium's label.
    suits: { liveIso: bootable && liveLabel !== undefined, disk: bootable && liveLabel === undefined, netboot: bootable },
  };
}
