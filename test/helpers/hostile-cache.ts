// Copies of the good fixture cache, each broken in exactly one way, for the bad-input tests.
// Where a narinfo is edited it is re-signed with the fixture key, so that only the check meant
// to catch the fault can catch it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { nix32Encode } from '../../core/nix/nix32.ts';
import { parseSecretKey, signFingerprint } from '../../core/nix/signature.ts';
import { binaryToBytes } from '../../core/io/binary-string.ts';
import type { Fixture } from './fixtures.ts';
import { concatBytes as concat } from '../../core/io/bytes.ts';
import { narNodeParts, narStr, writeNar, type NarNode } from './nar-builder.ts';

export interface HostileCache {
  /** The broken cache's directory. */
  dir: string;
  /** The store path whose narinfo or NAR was broken. */
  storePath: string;
}

export const HOSTILE_NAR_KINDS = [
  'dotdot-name',
  'slash-name',
  'nul-name',
  'empty-name',
  'unsorted',
  'duplicate',
  'bad-magic',
  'bad-padding',
  'trailing-bytes',
] as const;
export type HostileNarKind = (typeof HOSTILE_NAR_KINDS)[number];

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A copy of the signed xz cache at `<tmp>/cache`; its parent is removed when the process exits. */
async function copyGoodCache(fx: Fixture): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'nix-imager-hostile-'));
  made.push(parent);
  const dir = join(parent, 'cache');
  await cp(fx.caches.xz, dir, { recursive: true });
  return dir;
}

const hashPart = (storePath: string) => basename(storePath).slice(0, 32);
const narInfoFile = (dir: string, storePath: string) => join(dir, `${hashPart(storePath)}.narinfo`);

type Fields = [key: string, value: string][];

function parseFields(text: string): Fields {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const i = l.indexOf(': ');
      return [l.slice(0, i), l.slice(i + 2)];
    });
}

const field = (f: Fields, key: string) => f.find(([k]) => k === key)?.[1] ?? '';

function setField(f: Fields, key: string, value: string): Fields {
  return f.map(([k, v]) => [k, k === key ? value : v]);
}

const formatFields = (f: Fields) => f.map(([k, v]) => `${k}: ${v}\n`).join('');

/** Nix's fingerprint of a narinfo: `1;<path>;<NarHash>;<NarSize>;<full references, comma-joined>`. */
function fingerprint(fx: Fixture, f: Fields): string {
  const refs = field(f, 'References').split(' ').filter((r) => r !== '');
  return `1;${field(f, 'StorePath')};${field(f, 'NarHash')};${field(f, 'NarSize')};${refs.map((r) => `${fx.storeDir}/${r}`).join(',')}`;
}

/** Replaces every Sig line with one signature by the key in `secretKeyFile`. */
async function resign(fx: Fixture, f: Fields, secretKeyFile = fx.secretKeyFile): Promise<Fields> {
  const key = parseSecretKey((await readFile(secretKeyFile, 'utf8')).trim());
  return [...f.filter(([k]) => k !== 'Sig'), ['Sig', signFingerprint(key, fingerprint(fx, f))]];
}

async function editNarInfo(dir: string, storePath: string, edit: (f: Fields) => Fields | Promise<Fields>): Promise<void> {
  const file = narInfoFile(dir, storePath);
  await writeFile(file, formatFields(await edit(parseFields(await readFile(file, 'utf8')))));
}

async function narFile(dir: string, storePath: string): Promise<string> {
  return join(dir, field(parseFields(await readFile(narInfoFile(dir, storePath), 'utf8')), 'URL'));
}

const sha256Nix32 = (bytes: Uint8Array) => `sha256:${nix32Encode(createHash('sha256').update(bytes).digest())}`;

/** One byte in the middle of lib's `.nar.xz` flipped: FileHash no longer matches (nor does xz's check). */
export async function corruptNarFile(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.lib;
  const file = await narFile(dir, storePath);
  const bytes = await readFile(file);
  bytes[bytes.length >> 1] ^= 0x55;
  await writeFile(file, bytes);
  return { dir, storePath };
}

/** lib's `.nar.xz` cut to half its length. */
export async function truncateNarFile(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.lib;
  const file = await narFile(dir, storePath);
  await truncate(file, (await readFile(file)).length >> 1);
  return { dir, storePath };
}

/** app's NarHash replaced by another path's and re-signed: the signature is valid, the NAR is intact. */
export async function lieAboutNarHash(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  const otherHash = field(parseFields(await readFile(narInfoFile(dir, fx.paths.etc), 'utf8')), 'NarHash');
  await editNarInfo(dir, storePath, (f) => resign(fx, setField(f, 'NarHash', otherHash)));
  return { dir, storePath };
}

/** app's signature with one byte of the ed25519 signature flipped. */
export async function badSignature(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  await editNarInfo(dir, storePath, (f) =>
    f.map(([k, v]): [string, string] => {
      if (k !== 'Sig') return [k, v];
      const [name, b64] = v.split(':') as [string, string];
      const sig = Buffer.from(b64, 'base64');
      sig[10] ^= 0x01;
      return [k, `${name}:${sig.toString('base64')}`];
    }),
  );
  return { dir, storePath };
}

/** app signed only by other-1, a valid signature by a key nobody trusts. */
export async function signWithOtherKey(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  await editNarInfo(dir, storePath, (f) => resign(fx, f, fx.otherSecretKeyFile));
  return { dir, storePath };
}

/** app's narinfo without any Sig line. */
export async function removeSignatures(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  await editNarInfo(dir, storePath, (f) => f.filter(([k]) => k !== 'Sig'));
  return { dir, storePath };
}

/** app's narinfo deleted: the cache answers 404 for a path toplevel references. */
export async function deleteNarInfo(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  await rm(narInfoFile(dir, storePath));
  return { dir, storePath };
}

/**
 * app's URL is `../<file>.nar.xz` (re-signed), and the NAR really is there, outside the cache:
 * a reader that followed the URL would succeed, so only the URL check can refuse it.
 */
export async function dotDotUrl(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  const file = await narFile(dir, storePath);
  await rename(file, join(dir, '..', basename(file)));
  await editNarInfo(dir, storePath, (f) => resign(fx, setField(f, 'URL', `../${basename(file)}`)));
  return { dir, storePath };
}

/** app's NarSize is `abc`. */
export async function malformedNarInfo(fx: Fixture): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.app;
  await editNarInfo(dir, storePath, (f) => setField(f, 'NarSize', 'abc'));
  return { dir, storePath };
}

const text = (s: string): NarNode => ({ type: 'regular', contents: new TextEncoder().encode(s) });

/** etc's tree (etc/motd, etc/os-release) with `names` as the entries of etc/. */
function etcTree(names: string[]): NarNode {
  return { type: 'directory', entries: [['etc', { type: 'directory', entries: names.map((n) => [n, text(`${n}\n`)]) }]] };
}

const GOOD_ETC = ['motd', 'os-release'];

/** The entries of etc/ for the kinds that differ from a good NAR only in their names. */
const NAME_FAULTS: Partial<Record<HostileNarKind, string[]>> = {
  'dotdot-name': ['..', 'motd'],
  'slash-name': ['motd', 'os/release'],
  'nul-name': ['motd', 'os\0release'],
  'empty-name': ['', 'motd'],
  unsorted: ['os-release', 'motd'],
  duplicate: ['motd', 'motd'],
};

/** The NAR bytes of each hostile kind; all but the fault is a well-formed NAR of an etc tree. */
export function hostileNarBytes(kind: HostileNarKind): Uint8Array {
  const names = NAME_FAULTS[kind];
  if (names) return writeNar(etcTree(names));
  const parts = narNodeParts(etcTree(GOOD_ETC));
  if (kind === 'bad-magic') return concat([narStr('nix-archive-2'), ...parts]);
  if (kind === 'trailing-bytes') return concat([narStr('nix-archive-1'), ...parts, binaryToBytes('trailing')]);
  // bad-padding: the first file's contents ("motd\n", 5 bytes) is followed by 3 padding bytes; make one non-zero.
  const at = parts.findIndex((_, i) => i > 0 && sameBytes(parts[i - 1]!, narStr('contents')));
  const padded = parts[at]!.slice();
  padded[padded.length - 1] = 0x01;
  parts[at] = padded;
  return concat([narStr('nix-archive-1'), ...parts]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * etc's NAR replaced by a hostile one, xz-compressed by the xz CLI, with a narinfo whose
 * NarHash/NarSize/FileHash/FileSize are right for those bytes and a valid fixture-1 signature:
 * only the NAR reader can refuse it.
 */
export async function hostileNar(fx: Fixture, kind: HostileNarKind): Promise<HostileCache> {
  const dir = await copyGoodCache(fx);
  const storePath = fx.paths.etc;
  const nar = hostileNarBytes(kind);
  const compressed = new Uint8Array(execFileSync('xz', ['-c', '-T1'], { input: nar }));
  const fileHash = sha256Nix32(compressed);
  const url = `nar/${fileHash.slice('sha256:'.length)}.nar.xz`;
  await rm(await narFile(dir, storePath));
  await writeFile(join(dir, url), compressed);
  await editNarInfo(dir, storePath, (f) => {
    let g = setField(f, 'URL', url);
    g = setField(g, 'Compression', 'xz');
    g = setField(g, 'FileHash', fileHash);
    g = setField(g, 'FileSize', String(compressed.length));
    g = setField(g, 'NarHash', sha256Nix32(nar));
    g = setField(g, 'NarSize', String(nar.length));
    return resign(fx, g);
  });
  return { dir, storePath };
}
