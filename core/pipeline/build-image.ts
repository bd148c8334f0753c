import { BinaryCache } from '../cache/binary-cache.ts';
import type { Fetch, RetryOptions } from '../cache/http.ts';
import { resolvePaths, type ResolvedPath } from '../cache/resolve.ts';
import { NarListing, streamedNarTree } from '../image/store-tree.ts';
import { addPath, newDir, type ImageDir, type ImageNode } from '../image/tree.ts';
import { textToBinary } from '../io/binary-string.ts';
import { concatBytes } from '../io/bytes.ts';
import { bytesSource, type DataSource, type RandomAccess } from '../io/data-source.ts';
import type { ByteSink } from '../io/sink.ts';
import { closureOf } from '../nix/closure.ts';
import { registrationText } from '../nix/registration.ts';
import { parsePublicKey, type Ed25519Verify } from '../nix/signature.ts';
import { DEFAULT_STORE_DIR, storePathOf } from '../nix/store-path.ts';
import type { Platform, ScratchFile } from '../platform.ts';
import type { NarCache } from '../store/nar-cache.ts';
import { fetchNar, type FetchNarOptions, type StoredNar } from '../store/nar-fetch.ts';
import { ConfigError, type BuildConfig, type ContentSource } from './config.ts';
import { writeFormat } from './write-format.ts';
import type { ProgressListener } from './progress.ts';
import { lookupStoreNode } from './store-lookup.ts';
import { efiImageNode, planToplevelImage } from './toplevel-plan.ts';
import { addInstalledSystem, closureDatabase, espTree, planDiskImage } from './toplevel-disk.ts';

export interface BuildOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** NAR downloads in flight at once. */
  downloads?: number;
  /** A plan from planBuild() for this config, to skip resolving again. */
  plan?: BuildPlan;
  /** Time limits, retries and credentials for the substituters. */
  http?: CacheRequestOptions;
}

/** What every request to a substituter uses; the signal is the build's. */
export type CacheRequestOptions = Omit<RetryOptions, 'signal' | 'headers'>;

export interface BuildSummary {
  fileName: string;
  bytes: number;
  storePaths: number;
  narBytes: number;
  downloadBytes: number;
  /** What the image could not be given and why (e.g. a live ISO without BIOS boot), for the user. */
  notes: string[];
}

/** cache → closure → NAR stream → image writer → compressor → sink. The sink is closed on success, aborted on failure. */
export async function buildImage(config: BuildConfig, platform: Platform, sink: ByteSink, opts: BuildOptions = {}): Promise<BuildSummary> {
  const scratch: ScratchFile[] = [];
  try {
    const summary = await build(config, platform, sink, opts, scratch);
    await sink.close();
    return summary;
  } catch (e) {
    await sink.abort(e);
    throw e;
  } finally {
    for (const f of scratch) await f.remove().catch(() => {});
  }
}

/** The resolved closures of a build: everything that will be downloaded, before anything is. */
export interface BuildPlan {
  /** Read only: a build looks up store paths it meets on the way in a copy. */
  resolved: ReadonlyMap<string, ResolvedPath>;
  /** Sorted closure of storeContents: under /nix/store (tarball, iso) or the squashfs image. */
  imageClosure: string[];
  /** Sorted closure of iso.squashfsContents: inside /nix-store.squashfs. */
  squashfsClosure: string[];
}

export function resolveSettings(config: BuildConfig, fetch: Fetch, verify: Ed25519Verify | undefined, signal: AbortSignal | undefined, http: CacheRequestOptions = {}) {
  return {
    caches: config.substituters.map((url) => new BinaryCache(url, fetch, http)),
    opts: { trustedKeys: config.trustedPublicKeys.map(parsePublicKey), requireSigs: config.requireSigs, verify, signal },
  };
}

export interface PlanOptions extends Pick<BuildOptions, 'signal' | 'onProgress' | 'http'> {
  /** The signature check (default: the portable one; a Platform's ed25519Verify is faster). */
  verify?: Ed25519Verify;
}

/** Looks up every narinfo the build needs (closures, and the store paths contents come from). */
export async function planBuild(config: BuildConfig, fetch: Fetch, opts: PlanOptions = {}): Promise<BuildPlan> {
  const { caches, opts: resolveOpts } = resolveSettings(config, fetch, opts.verify, opts.signal, opts.http);
  const imageRoots = config.storeContents.map((s) => s.object);
  // A live ISO's toplevel goes into its squashfs (the boot files are found in its closure later), and so does netboot's (into its initrd).
  const liveRoots = (config.format === 'iso' || config.format === 'netboot') && config.toplevel !== null ? [config.toplevel] : [];
  const squashfsRoots = [...new Set([...liveRoots, ...(config.iso?.squashfsContents ?? [])])];
  const resolved = await resolvePaths([...imageRoots, ...squashfsRoots], caches, {
    ...resolveOpts,
    closure: true,
    onProgress: (done, total) => opts.onProgress?.({ stage: 'narinfo', done, total }),
  });
  const contentPaths = contentSources(config).flatMap((s) => (s.kind === 'store' ? [storePathOf(s.path, DEFAULT_STORE_DIR).storePath] : []));
  const missing = [...new Set(contentPaths)].filter((p) => !resolved.has(p));
  for (const [p, r] of await resolvePaths(missing, caches, { ...resolveOpts, closure: false })) resolved.set(p, r);
  const refsOf = (p: string) => resolved.get(p)!.info.references;
  return {
    resolved,
    imageClosure: imageRoots.length > 0 ? closureOf(imageRoots, refsOf) : [],
    squashfsClosure: squashfsRoots.length > 0 ? closureOf(squashfsRoots, refsOf) : [],
  };
}

async function build(given: BuildConfig, platform: Platform, sink: ByteSink, opts: BuildOptions, scratch: ScratchFile[]): Promise<BuildSummary> {
  const { signal, onProgress } = opts;
  const storeDir = DEFAULT_STORE_DIR;
  const { caches, opts: resolveOpts } = resolveSettings(given, platform.fetch, platform.ed25519Verify, signal, opts.http);
  const narOptions = { signal, sha256: platform.sha256, codecs: platform.codecs };
  const sources = { caches, resolveOpts, narCache: platform.narCache, narOptions };
  const live = given.toplevel !== null && (given.format === 'iso' || given.format === 'netboot') ? await planToplevelImage(given, given.toplevel, sources) : undefined;
  const disk = given.toplevel !== null && given.format === 'disk' ? await planDiskImage(given, sources) : undefined;
  const config = live?.config ?? disk?.config ?? given;
  // A plan made before the toplevel was read does not know its closure.
  const plan = (live || disk ? undefined : opts.plan) ?? (await planBuild(config, platform.fetch, { ...opts, verify: platform.ed25519Verify }));
  const { imageClosure, squashfsClosure } = plan;
  // The caller's plan stays as it was: paths met on the way are added to this build's copy.
  const resolved = new Map(plan.resolved);

  // 2. NARs: verified, into the NAR cache.
  const nars = await fetchAll([...resolved.values()], platform.narCache, narOptions, opts);
  // A tarball is written in one pass in name order: each store path's tree is built when the writer
  // reaches it and dropped after, so memory does not grow with the closure's file count. The ISO and
  // squashfs writers lay the whole tree out first, so they get it whole.
  const streamed = config.format === 'tarball';
  const trees = new Map<string, ImageNode>();
  const storeRoot = async (storePath: string): Promise<ImageNode> => {
    let tree = trees.get(storePath);
    if (tree === undefined) {
      let nar = nars.get(storePath);
      if (nar === undefined) {
        // A symlink in a content source led into a store path nobody asked for yet.
        const [r] = (await resolvePaths([storePath], caches, { ...resolveOpts, closure: false })).values();
        nar = packed(await fetchNar(r!, platform.narCache, narOptions));
        resolved.set(storePath, r!);
      }
      tree = streamed ? streamedNarTree(nar.listing, nar.open) : nar.listing.tree(nar.open);
      trees.set(storePath, tree);
      if (!streamed) nars.delete(storePath); // the tree now holds what the listing said
    }
    return tree;
  };

  // 3. The image tree, as make-system-tarball.sh / make-iso9660-image.sh lay it out.
  if (config.format !== 'squashfs') refuseTargetsInClosure(config, imageClosure, storeDir);
  const root = newDir(0o755);
  for (const c of config.contents) addPath(root, textToBinary(c.target), await contentNode(c.source, platform, storeDir, storeRoot));
  for (const d of config.directories) addPath(root, textToBinary(d), newDir(0o755));
  if (live?.efiImage) {
    const storeFile = (path: string) => contentNode({ kind: 'store', path }, platform, storeDir, storeRoot);
    addPath(root, textToBinary(live.efiImage.target), await efiImageNode(live.efiImage.files, config.sourceDateEpoch, storeFile));
  }
  for (const s of config.storeContents) if (s.symlink !== null) addPath(root, textToBinary(s.symlink), { kind: 'symlink', target: textToBinary(s.object) });
  const registration = registrationText(imageClosure.map((p) => registrationEntry(resolved.get(p)!)));
  let tree: ImageDir = root;
  let esp: ImageDir | undefined;
  if (config.format === 'squashfs') {
    tree = newDir(0o755);
    await addStore(tree, imageClosure, '', storeRoot, registration);
  } else if (disk !== undefined) {
    if (platform.sqlite === undefined) throw new Error('this platform has no SQLite for the Nix database of a disk image');
    await addStorePaths(root, imageClosure, storeDir.slice(1), storeRoot);
    addInstalledSystem(root, config.toplevel!, await closureDatabase(imageClosure, resolved, platform.sqlite, config.sourceDateEpoch));
    esp = await espTree(disk.esp, (path) => lookupStoreNode(path, storeDir, storeRoot));
  } else if (imageClosure.length > 0) {
    await addStore(root, imageClosure, storeDir.slice(1), storeRoot, registration);
  }

  const mbr = config.iso?.isohybridMbrImage ? await contentNode(config.iso.isohybridMbrImage, platform, storeDir, storeRoot) : undefined;
  if (mbr !== undefined && mbr.kind !== 'file') throw new ConfigError('iso.isohybridMbrImage', 'is not a file');
  const written = await writeFormat(config, tree, sink, {
    platform,
    scratch,
    signal,
    onProgress,
    isohybridMbr: mbr?.kind === 'file' ? await readAll(mbr.data) : undefined,
    esp,
    squashfs:
      squashfsClosure.length > 0
        ? async () => {
            const sq = newDir(0o755);
            await addStore(sq, squashfsClosure, '', storeRoot, registrationText(squashfsClosure.map((p) => registrationEntry(resolved.get(p)!))));
            return sq;
          }
        : undefined,
  });

  let narBytes = 0;
  let downloadBytes = 0;
  for (const r of resolved.values()) {
    narBytes += r.info.narSize;
    downloadBytes += r.info.fileSize ?? 0;
  }
  return { fileName: config.fileName, bytes: written, storePaths: resolved.size, narBytes, downloadBytes, notes: live?.notes ?? [] };
}

/**
 * A contents target or storeContents symlink inside a store path of the closure would merge into
 * its tree, which then no longer matches the NarHash nix-path-registration gives it.
 */
function refuseTargetsInClosure(config: BuildConfig, closure: string[], storeDir: string): void {
  const inClosure = new Set(closure);
  const targets: [field: string, target: string][] = [
    ...config.contents.map((c, i): [string, string] => [`contents[${i}].target`, c.target]),
    ...config.storeContents.flatMap((s, i): [string, string][] => (s.symlink === null ? [] : [[`storeContents[${i}].symlink`, s.symlink]])),
  ];
  for (const [field, target] of targets) {
    if (!target.startsWith(`${storeDir}/`)) continue;
    const storePath = target.split('/').slice(0, storeDir.split('/').length + 1).join('/');
    if (inClosure.has(storePath)) throw new ConfigError(field, `${target} is inside ${storePath}, a store path of the image, whose contents are fixed by its NarHash`);
  }
}

function contentSources(config: BuildConfig): ContentSource[] {
  const mbr = config.iso?.isohybridMbrImage;
  return [...config.contents.map((c) => c.source), ...(mbr ? [mbr] : [])];
}

export async function contentNode(
  source: ContentSource,
  platform: Platform,
  storeDir: string,
  storeRoot: (storePath: string) => Promise<ImageNode>,
): Promise<ImageNode> {
  switch (source.kind) {
    case 'text':
      // pkgs.writeText: a read-only file in the store, copied with its mode.
      return { kind: 'file', mode: 0o444, data: bytesSource(new TextEncoder().encode(source.text)) };
    case 'local':
      return platform.localNode(source.path);
    case 'store':
      return lookupStoreNode(source.path, storeDir, storeRoot);
  }
}

function registrationEntry(r: ResolvedPath) {
  return { path: r.info.storePath, narHash: r.info.narHash, narSize: r.info.narSize, references: r.info.references };
}

/** Each store path under `prefix` by its base name. */
async function addStorePaths(root: ImageDir, closure: string[], prefix: string, storeRoot: (p: string) => Promise<ImageNode>): Promise<void> {
  if (prefix !== '') addPath(root, prefix, newDir(0o755));
  for (const p of closure) {
    const base = p.slice(p.lastIndexOf('/') + 1);
    addPath(root, prefix === '' ? base : `${prefix}/${base}`, await storeRoot(p));
  }
}

/** Each store path under `prefix` by its base name, plus nix-path-registration (0444) at the image root. */
async function addStore(root: ImageDir, closure: string[], prefix: string, storeRoot: (p: string) => Promise<ImageNode>, registration: string): Promise<void> {
  await addStorePaths(root, closure, prefix, storeRoot);
  addPath(root, 'nix-path-registration', { kind: 'file', mode: 0o444, data: bytesSource(new TextEncoder().encode(registration)) });
}

interface PackedNar {
  listing: NarListing;
  open: () => Promise<RandomAccess>;
}

const packed = (nar: StoredNar): PackedNar => ({ listing: NarListing.pack(nar.entries), open: nar.open });

async function fetchAll(paths: ResolvedPath[], narCache: NarCache, narOptions: FetchNarOptions, opts: BuildOptions): Promise<Map<string, PackedNar>> {
  const { onProgress } = opts;
  // The first failure stops the other downloads.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const out = new Map<string, PackedNar>();
  const totalDownload = paths.reduce((n, r) => n + (r.info.fileSize ?? 0), 0);
  const totalNar = paths.reduce((n, r) => n + r.info.narSize, 0);
  let downloaded = 0;
  let verified = 0;
  const queue = [...paths].sort((a, b) => b.info.narSize - a.info.narSize);
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let r = queue.shift(); r !== undefined && !signal.aborted; r = queue.shift()) {
      const nar = await fetchNar(r, narCache, {
        ...narOptions,
        signal,
        onBytes: (d, u) => {
          downloaded += d;
          verified += u;
          if (d > 0) onProgress?.({ stage: 'download', done: downloaded, total: totalDownload });
          if (u > 0) onProgress?.({ stage: 'verify', done: verified, total: totalNar });
        },
      });
      out.set(r.info.storePath, packed(nar));
    }
  };
  const workers = Array.from({ length: Math.min(opts.downloads ?? 4, Math.max(1, queue.length)) }, () =>
    worker().catch((error) => {
      failure ??= { error };
      stop.abort(error);
    }),
  );
  await Promise.all(workers);
  if (failure) throw opts.signal?.aborted ? opts.signal.reason : failure.error;
  return out;
}

async function readAll(data: DataSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of data.stream()) parts.push(chunk);
  return concatBytes(parts);
}
