// The real-Nix fixture caches (test/fixtures/make-cache.sh), built once per version of the
// fixture sources into test-artifacts/fixtures/<hash>/ and shared by every test process.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, ROOT } from './cli.ts';

export interface Fixture {
  /** The directory make-cache.sh wrote (OUTDIR). */
  dir: string;
  storeDir: string;
  paths: { lib: string; app: string; etc: string; kernel: string; toplevel: string; plain: string };
  /** The full closure of `paths.toplevel`, sorted; every cache holds exactly these paths. */
  closure: string[];
  /** `fixture-1:…`, the key every signed cache is signed with. */
  publicKey: string;
  /** `other-1:…`, a key nobody trusts. */
  otherPublicKey: string;
  secretKeyFile: string;
  otherSecretKeyFile: string;
  /** Absolute directories of binary caches of the closure. */
  caches: { xz: string; none: string; zstd: string; unsigned: string };
  /** The chroot store Nix built into: store paths live under `storeRoot + path`. */
  storeRoot: string;
}

export class FixtureBuildError extends Error {
  override name = 'FixtureBuildError';
}

const SOURCES = join(ROOT, 'test/fixtures');
const STAMP = 'complete';
const LOCK_WAIT_MS = 15 * 60_000;

/** A hash of the files (not the subdirectories) of `dir`, and of `extra`. */
export async function sourceHash(dir = SOURCES, extra = ''): Promise<string> {
  const h = createHash('sha256').update(extra);
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isFile()) h.update(`${entry.name}\0`).update(await readFile(join(dir, entry.name))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the mkdir lock, or waits for its holder; a lock whose holder died is broken. */
export async function withLock(lock: string, done: () => boolean, body: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (done()) return;
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
    if (holder && !pidAlive(holder)) await rm(lock, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new FixtureBuildError(`timed out waiting for the fixture lock ${lock}`);
    else await new Promise((r) => setTimeout(r, 500));
  }
  try {
    await writeFile(join(lock, 'pid'), String(process.pid));
    if (!done()) await body();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function build(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const r = await run('bash', [join(SOURCES, 'make-cache.sh'), dir]);
  await writeFile(join(dir, 'make-cache.log'), r.stdout + r.stderr);
  if (r.code !== 0) throw new FixtureBuildError(`test/fixtures/make-cache.sh ${dir} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
  await writeFile(join(dir, STAMP), new Date().toISOString());
}

let cached: Promise<Fixture> | undefined;

/** The fixture caches and their manifest, built on first use (takes under a minute). */
export function fixtureCache(): Promise<Fixture> {
  cached ??= (async () => {
    const base = join(ROOT, 'test-artifacts/fixtures');
    await mkdir(base, { recursive: true });
    const dir = join(base, await sourceHash());
    const complete = () => existsSync(join(dir, STAMP));
    if (!complete()) await withLock(`${dir}.lock`, complete, () => build(dir));
    const manifest = JSON.parse(await readFile(join(dir, 'fixture.json'), 'utf8')) as Omit<Fixture, 'dir'>;
    return { dir, ...manifest };
  })();
  return cached;
}

/** A tarball config over the fixture's signed xz cache, for its toplevel, with `extra` on top. */
export function fixtureConfig(fx: Fixture, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'tarball',
    substituters: [fx.caches.xz],
    trustedPublicKeys: [fx.publicKey],
    storeContents: [{ object: fx.paths.toplevel, symlink: '/run/current-system' }],
    ...extra,
  };
}
