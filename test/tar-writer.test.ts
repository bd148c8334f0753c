import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarStream, tarSize } from '../core/tar/tar-writer.ts';
import type { ImageDir } from '../core/image/tree.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-tar-'));
after(() => {
  execFileSync('chmod', ['-R', 'u+rwx', tmp]); // trees hold 0555 dirs, as the store does
  rmSync(tmp, { recursive: true, force: true });
});
let dirs = 0;

/** nixpkgs' make-system-tarball.sh command, with `*` also matching top-level dotfiles, in C-locale byte order. */
function gnuTar(dir: string, mtime = 1): Buffer {
  const script = `cd "$1" && shopt -s dotglob nullglob && LC_ALL=C exec tar --sort=name --mtime=@${mtime} --owner=0 --group=0 --numeric-owner -c *`;
  return execFileSync('bash', ['-c', script, 'gnu-tar', dir], { maxBuffer: 1 << 30 });
}

async function ourTar(root: ImageDir, mtime?: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of tarStream(root, mtime === undefined ? {} : { mtime })) parts.push(chunk.slice());
  return Buffer.concat(parts);
}

/** The first differing 512-byte block, described for a failure message. */
function firstDifference(ours: Buffer, theirs: Buffer): string {
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== theirs[i]) {
      const block = Math.floor(i / 512) * 512;
      const show = (b: Buffer) => JSON.stringify(b.subarray(block, block + 512).toString('latin1').replace(/\0+$/, ''));
      return `byte ${i} (block at ${block}):\n ours   ${show(ours)}\n theirs ${show(theirs)}`;
    }
  }
  return `lengths ${ours.length} vs ${theirs.length}`;
}

async function assertSameAsGnuTar(dir: string, mtime?: number): Promise<Buffer> {
  const root = treeFromDisk(dir);
  const theirs = gnuTar(dir, mtime);
  const ours = await ourTar(root, mtime);
  if (!ours.equals(theirs)) assert.fail(`tarStream differs from GNU tar at ${firstDifference(ours, theirs)}`);
  assert.equal(tarSize(root, mtime === undefined ? {} : { mtime }), theirs.length, 'tarSize');
  return theirs;
}

type Spec = { [name: string]: string | number | { link: string } | { mode: number; data?: string | number; dir?: Spec } | Spec };

/** Builds a tree on disk: a string or byte count is a file, {link} a symlink, a nested object a directory. */
function build(spec: Spec, dir = join(tmp, `t${dirs++}`)): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const [name, v] of Object.entries(spec)) {
    const p = join(dir, name);
    if (typeof v === 'string') writeFileSync(p, v, { mode: 0o644 });
    else if (typeof v === 'number') writeFileSync(p, Buffer.alloc(v, 0x61), { mode: 0o644 });
    else if ('link' in v && typeof v.link === 'string') symlinkSync(v.link, p);
    else build(v as Spec, p);
  }
  return dir;
}

test('a basic tree: files, dirs, a symlink, store modes', async () => {
  const dir = build({
    nix: { store: { 'abc-hello': { bin: { hello: 'binary\n' }, share: { doc: 'text' } } } },
    etc: { 'nixos-version': '24.05', motd: '' },
    run: { 'current-system': { link: '/nix/store/abc-hello' } },
    '.dotfile': 'x',
  });
  chmodSync(join(dir, 'nix/store/abc-hello/bin/hello'), 0o555);
  chmodSync(join(dir, 'nix/store/abc-hello/share/doc'), 0o444);
  chmodSync(join(dir, 'nix/store/abc-hello/bin'), 0o555);
  chmodSync(join(dir, 'nix/store/abc-hello'), 0o555);
  await assertSameAsGnuTar(dir);
});
