// A synthetic binary cache written directly: N store paths with a random reference DAG and M
// files each, NARs from our test-side writer, narinfos signed with an ed25519 key. Deterministic
// in its options, and kept under test-artifacts/ between runs.
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64Encode } from '../../core/nix/base64.ts';
import { formatNixHash } from '../../core/nix/hash.ts';
import { nix32Encode } from '../../core/nix/nix32.ts';
import { narInfoFingerprint, signFingerprint, type SecretKey } from '../../core/nix/signature.ts';
import { encodeXzStream } from '../../core/xz/xz-encode.ts';
import { nodeCodecs } from '../../node/codec-wasm.ts';
import { ROOT } from './cli.ts';
import { sortedTree, writeNar, type NarNode } from './nar-builder.ts';

export interface SyntheticOptions {
  /** Store paths, the toplevel included. */
  paths: number;
  /** Regular files per store path (one of them executable). */
  filesPerPath: number;
  /** Mean file size in bytes (sizes are exponentially distributed, capped at 16× the mean). */
  meanFileSize: number;
  compression: 'none' | 'xz';
  /** Share of files that are text-like (compressible); the rest is random bytes. Default 0.3. */
  compressible?: number;
  /** Most references a path has to other paths. Default 4. */
  maxRefs?: number;
  seed?: number;
}

export interface SyntheticCache {
  dir: string;
  /** file:// URL of the cache. */
  url: string;
  publicKey: string;
  secretKey: SecretKey;
  /** `name:base64` of the secret key, as `nix-store --generate-binary-cache-key` writes it. */
  secretKeyText: string;
  /** The path whose closure is every path. */
  toplevel: string;
  /** Every store path, sorted. */
  paths: string[];
  references: Record<string, string[]>;
  /** Regular files over all paths. */
  files: number;
  narBytes: number;
  fileBytes: number;
}

const STORE = '/nix/store';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha256(data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

const ZEROS = new Uint8Array(1 << 20);

/** Incompressible bytes, fast: AES-256-CTR of zeros under a key derived from `label`. */
function randomBytes(label: string, size: number): Uint8Array {
  const key = sha256(label);
  const cipher = createCipheriv('aes-256-ctr', key, key.subarray(0, 16));
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += ZEROS.length) out.set(cipher.update(ZEROS.subarray(0, Math.min(ZEROS.length, size - at))), at);
  return out;
}

const WORDS = ['lib', 'nix', 'store', 'path', 'hash', 'the', 'of', 'and', 'config', 'module', 'option', 'value', 'true', 'false', '{', '}', ';', '=', '\n'];

/** Text-like bytes: words picked from a small vocabulary (xz shrinks them to about a third). */
function textBytes(label: string, size: number): Uint8Array {
  const pick = randomBytes(label, size);
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; at < size; i++) {
    const w = WORDS[pick[i % size]! % WORDS.length]!;
    for (let c = 0; c < w.length && at < size; c++) out[at++] = w.charCodeAt(c);
    if (at < size) out[at++] = 0x20;
  }
  return out;
}

export function syntheticKey(seed: number): { publicKey: string; secretKey: SecretKey; secretKeyText: string } {
  const name = `synthetic-${seed}`;
  const priv = sha256(`synthetic key ${seed}`);
  const pub = ed25519.getPublicKey(priv);
  const key = new Uint8Array(64);
  key.set(priv, 0);
  key.set(pub, 32);
  return { publicKey: `${name}:${base64Encode(pub)}`, secretKey: { name, key }, secretKeyText: `${name}:${base64Encode(key)}` };
}

function storePathFor(seed: number, i: number, name: string): string {
  return `${STORE}/${nix32Encode(sha256(`synthetic ${seed} ${i}`).subarray(0, 20))}-${name}`;
}

/** Each path's references (indices, lower than its own, sometimes itself); the last path references every path nobody else does. */
function referenceDag(n: number, maxRefs: number, random: () => number): number[][] {
  const refs: number[][] = [];
  const referenced = new Uint8Array(n);
  for (let i = 0; i < n - 1; i++) {
    const mine = new Set<number>();
    const count = i === 0 ? 0 : Math.floor(random() * (maxRefs + 1));
    for (let k = 0; k < count; k++) {
      // Half "popular" low paths (like glibc), half recent neighbours.
      const j = random() < 0.5 ? Math.floor(random() ** 3 * i) : i - 1 - Math.floor(random() * Math.min(i, 20));
      mine.add(j);
      referenced[j] = 1;
    }
    if (random() < 0.1) mine.add(i);
    refs.push([...mine]);
  }
  const top: number[] = [];
  for (let i = 0; i < n - 1; i++) if (!referenced[i]) top.push(i);
  refs.push(top);
  return refs;
}

function fileSize(mean: number, random: () => number): number {
  return Math.min(16 * mean, Math.floor(-Math.log(1 - random()) * mean));
}

/** The tree of path `i`: bin/<name> (mentions its references), share/dK/fJ files, a relative symlink. */
function pathTree(opts: Required<SyntheticOptions>, i: number, name: string, refs: string[], random: () => number): { node: NarNode; files: number } {
  const script = new TextEncoder().encode(`#!/bin/sh\n# ${name}\n${refs.map((r) => `# uses ${r}\n`).join('')}`);
  const dirs = new Map<string, [string, NarNode][]>();
  for (let f = 1; f < opts.filesPerPath; f++) {
    const size = fileSize(opts.meanFileSize, random);
    const label = `${opts.seed} ${i} ${f}`;
    const contents = random() < opts.compressible ? textBytes(label, size) : randomBytes(label, size);
    const d = `d${Math.floor(f / 16)}`;
    if (!dirs.has(d)) dirs.set(d, []);
    dirs.get(d)!.push([`f${f}`, { type: 'regular', contents }]);
  }
  const top: [string, NarNode][] = [['bin', { type: 'directory', entries: [[name, { type: 'regular', contents: script, executable: true }]] }]];
  if (dirs.size > 0) {
    top.push(['share', { type: 'directory', entries: [...dirs].map(([d, entries]): [string, NarNode] => [d, { type: 'directory', entries }]) }]);
    top.push(['data', { type: 'symlink', target: 'share' }]);
  }
  return { node: sortedTree({ type: 'directory', entries: top }), files: opts.filesPerPath };
}

async function generate(dir: string, opts: Required<SyntheticOptions>): Promise<SyntheticCache> {
  const random = rng(opts.seed);
  const keys = syntheticKey(opts.seed);
  const n = opts.paths;
  const dag = referenceDag(n, opts.maxRefs, random);
  const names = Array.from({ length: n }, (_, i) => (i === n - 1 ? `nixos-system-synthetic-${opts.seed}` : `synth-${i}-1.0`));
  const paths = names.map((name, i) => storePathFor(opts.seed, i, name));
  const xz = opts.compression === 'xz' ? await nodeCodecs.instance() : undefined;
  await mkdir(join(dir, 'nar'), { recursive: true });
  await writeFile(join(dir, 'nix-cache-info'), `StoreDir: ${STORE}\nWantMassQuery: 1\nPriority: 40\n`);
  const references: Record<string, string[]> = {};
  let files = 0;
  let narBytes = 0;
  let fileBytes = 0;
  for (let i = 0; i < n; i++) {
    const refs = dag[i]!.map((j) => paths[j]!).sort();
    references[paths[i]!] = refs;
    const tree = pathTree(opts, i, names[i]!, refs, random);
    files += tree.files;
    const nar = writeNar(tree.node);
    const file = xz ? encodeXzStream(xz, nar, { preset: 0, check: 'crc64' }) : nar;
    const narHash = { algo: 'sha256' as const, digest: sha256(nar) };
    const fileHash = xz ? sha256(file) : narHash.digest;
    const url = `nar/${nix32Encode(fileHash)}.nar${xz ? '.xz' : ''}`;
    await writeFile(join(dir, url), file);
    narBytes += nar.length;
    fileBytes += file.length;
    const info = { storePath: paths[i]!, narHash, narSize: nar.length, references: refs };
    const text = [
      `StorePath: ${info.storePath}`,
      `URL: ${url}`,
      `Compression: ${opts.compression}`,
      `FileHash: sha256:${nix32Encode(fileHash)}`,
      `FileSize: ${file.length}`,
      `NarHash: ${formatNixHash(narHash)}`,
      `NarSize: ${nar.length}`,
      `References: ${refs.map((r) => r.slice(STORE.length + 1)).join(' ')}`,
      `Sig: ${signFingerprint(keys.secretKey, narInfoFingerprint(info))}`,
    ];
    await writeFile(join(dir, `${info.storePath.slice(STORE.length + 1, STORE.length + 33)}.narinfo`), text.map((l) => `${l}\n`).join(''));
  }
  return {
    dir,
    url: pathToFileURL(dir).href,
    ...keys,
    toplevel: paths[n - 1]!,
    paths: [...paths].sort(),
    references,
    files,
    narBytes,
    fileBytes,
  };
}

/**
 * The synthetic cache for `options`, generated on first use under test-artifacts/synthetic/
 * (written under a temporary name and renamed when complete, so an interrupted run leaves no half cache).
 */
export async function syntheticCache(options: SyntheticOptions): Promise<SyntheticCache> {
  const opts: Required<SyntheticOptions> = { compressible: 0.3, maxRefs: 4, seed: 1, ...options };
  const id = `${opts.paths}p-${opts.filesPerPath}f-${opts.meanFileSize}b-${opts.compression}-c${opts.compressible}-r${opts.maxRefs}-s${opts.seed}`;
  const dir = join(ROOT, 'test-artifacts', 'synthetic', id);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const cache = JSON.parse(await readFile(manifest, 'utf8')) as SyntheticCache;
    return { ...cache, secretKey: syntheticKey(opts.seed).secretKey };
  }
  const part = `${dir}.part-${process.pid}`;
  await rm(part, { recursive: true, force: true });
  const made = await generate(part, opts);
  const cache = { ...made, dir, url: pathToFileURL(dir).href };
  await writeFile(join(part, 'manifest.json'), JSON.stringify({ ...cache, secretKey: undefined }));
  await rm(dir, { recursive: true, force: true });
  await rename(part, dir);
  return cache;
}
