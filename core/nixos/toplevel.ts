// What nix-imager reads from a NixOS system's toplevel store path: bootspec's boot.json
// (nixos/modules/system/activation/bootspec.nix) when present, else the plain files top-level.nix
// writes (kernel, initrd, init, kernel-params, nixos-version, system). Only the toplevel's own
// NAR is needed for this, so an unsuitable toplevel is refused before the closure is downloaded.
import type { ImageNode } from '../image/tree.ts';
import { binaryToText } from '../io/binary-string.ts';
import { concatBytes } from '../io/bytes.ts';
import { parseStorePath, storePathOf } from '../nix/store-path.ts';
import { NixImagerError } from '../errors.ts';

export interface Toplevel {
  /** The toplevel store path itself. */
  storePath: string;
  /** The Nix system double, e.g. "x86_64-linux" (bootspec's `system`, else the `system` file). */
  system: string | undefined;
  /** Full path of the kernel image in the store (…-linux-6.6/bzImage, or Image on aarch64). */
  kernel: string | undefined;
  /** Full path of the initrd in the store. */
  initrd: string | undefined;
  /** Stage 2's init: `<toplevel>/init` as bootspec names it. */
  init: string | undefined;
  kernelParams: string[];
  /** bootspec's label, else nixos-version: "24.05.20240101.abcdef (Linux 6.6.8)" or "24.05…". */
  label: string | undefined;
  /** The store path the `systemd` link points to. */
  systemd: string | undefined;
  /** Whether boot.json was read (else the plain files). */
  fromBootspec: boolean;
}

export class ToplevelError extends NixImagerError {
  override name = 'ToplevelError';
  readonly code = 'config';
  constructor(
    readonly storePath: string,
    problem: string,
  ) {
    super(`${storePath}: ${problem}`, { subject: storePath });
  }
}

/** Refuses a toplevel built for another system than the one a config names (`null`: none named). */
export function expectSystem(t: Toplevel, system: string | null): void {
  if (system !== null && system !== t.system) throw new ToplevelError(t.storePath, `is built for ${t.system}, but the config's "system" says ${system}`);
}

/** A file of the store, with symlinks on the way followed (the last one returned as itself); undefined when missing. */
export type StoreNodeLookup = (fullPath: string) => Promise<ImageNode | undefined>;

const MAX_TEXT = 1 << 20;
const BOOTSPEC_V1 = 'org.nixos.bootspec.v1';

/** Reads what booting `storePath` needs from its files; fields it cannot find are undefined for the caller to judge. */
export async function readToplevel(storePath: string, lookup: StoreNodeLookup): Promise<Toplevel> {
  parseStorePath(storePath);
  const text = (name: string) => readText(storePath, name, lookup);
  const bootJson = await text('boot.json');
  const systemd = await linkTarget(storePath, 'systemd', lookup);
  if (bootJson !== undefined) return { ...parseBootspec(storePath, bootJson), systemd, fromBootspec: true };
  const params = await text('kernel-params');
  const init = await lookup(`${storePath}/init`);
  return {
    storePath,
    system: (await text('system'))?.trim(),
    kernel: await linkTarget(storePath, 'kernel', lookup),
    initrd: await linkTarget(storePath, 'initrd', lookup),
    init: init === undefined ? undefined : `${storePath}/init`,
    kernelParams: params === undefined ? [] : splitParams(params),
    label: (await text('nixos-version'))?.trim(),
    systemd,
    fromBootspec: false,
  };
}

/** kernel-params is written with `echo -n` from a space-joined list. */
const splitParams = (s: string): string[] => s.split(/\s+/).filter((p) => p !== '');

async function readText(storePath: string, name: string, lookup: StoreNodeLookup): Promise<string | undefined> {
  const node = await resolved(storePath, `${storePath}/${name}`, lookup);
  if (node === undefined) return undefined;
  if (node.kind !== 'file') throw new ToplevelError(storePath, `${name} is a ${node.kind}, not a file`);
  if (node.data.size > MAX_TEXT) throw new ToplevelError(storePath, `${name} is ${node.data.size} bytes (at most ${MAX_TEXT})`);
  const parts: Uint8Array[] = [];
  for await (const chunk of node.data.stream()) parts.push(chunk);
  const bytes = concatBytes(parts);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ToplevelError(storePath, `${name} is not UTF-8 text`);
  }
}

/** The node at `path` with a final symlink followed too (a toplevel's files are often links into other store paths). */
async function resolved(storePath: string, path: string, lookup: StoreNodeLookup): Promise<ImageNode | undefined> {
  let node = await lookup(path);
  for (let hops = 0; node?.kind === 'symlink'; hops++) {
    if (hops === 40) throw new ToplevelError(storePath, `${path}: too many levels of symbolic links`);
    path = absoluteTarget(path, binaryToText(node.target));
    node = await lookup(path);
  }
  return node;
}

/** The store path a toplevel entry points to (`kernel` → /nix/store/…-linux/bzImage), or undefined when absent. */
async function linkTarget(storePath: string, name: string, lookup: StoreNodeLookup): Promise<string | undefined> {
  const node = await lookup(`${storePath}/${name}`);
  if (node === undefined) return undefined;
  if (node.kind !== 'symlink') throw new ToplevelError(storePath, `${name} is a ${node.kind}, not a link into the store`);
  const target = absoluteTarget(`${storePath}/${name}`, binaryToText(node.target));
  try {
    storePathOf(target);
  } catch {
    throw new ToplevelError(storePath, `${name} points outside the store, to ${target}`);
  }
  return target;
}

function absoluteTarget(linkPath: string, target: string): string {
  const base = target.startsWith('/') ? target : `${linkPath.slice(0, linkPath.lastIndexOf('/'))}/${target}`;
  const out: string[] = [];
  for (const p of base.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

function parseBootspec(storePath: string, json: string): Omit<Toplevel, 'systemd' | 'fromBootspec'> {
  const fail = (problem: string): never => {
    throw new ToplevelError(storePath, `boot.json: ${problem}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    return fail(`is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const v1 = isRecord(doc) ? doc[BOOTSPEC_V1] : undefined;
  if (!isRecord(v1)) return fail(`has no "${BOOTSPEC_V1}" object`);
  const field = (key: string, kind: 'path' | 'text'): string | undefined => {
    const v = v1[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return fail(`"${key}" must be a string`);
    if (kind === 'path') {
      try {
        storePathOf(v);
      } catch (e) {
        return fail(`"${key}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return v;
  };
  const params = v1['kernelParams'] ?? [];
  if (!Array.isArray(params) || !params.every((p) => typeof p === 'string' && p !== '' && !/\s/.test(p))) {
    return fail('"kernelParams" must be a list of parameters without white space');
  }
  const top = field('toplevel', 'path');
  if (top !== undefined && top !== storePath) fail(`"toplevel" is ${top}, not this store path`);
  return {
    storePath,
    system: field('system', 'text'),
    kernel: field('kernel', 'path'),
    initrd: field('initrd', 'path'),
    init: field('init', 'path'),
    kernelParams: params as string[],
    label: field('label', 'text'),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
