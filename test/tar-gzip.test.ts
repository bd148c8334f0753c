import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipCompressor } from '../core/codec/gzip.ts';
import { tarStream } from '../core/tar/tar-writer.ts';
import { treeFromDisk } from '../node/fs-tree.ts';

const tmp = mkdtempSync(join(tmpdir(), 'nix-imager-tar-gzip-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  return Buffer.concat(parts);
}

/** A few MB that compress, but not to nothing: text lines mixed with pseudo-random bytes. */
function mixed(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 4096 < 2048 ? 0x61 + ((i >> 4) % 26) : x >>> 24;
  }
  return b;
}

function sourceTree(): string {
  const dir = join(tmp, 'tree');
  mkdirSync(join(dir, 'nix/store/abc-big/lib'), { recursive: true });
  writeFileSync(join(dir, 'nix/store/abc-big/lib/blob'), mixed(6_000_000, 1), { mode: 0o444 });
  writeFileSync(join(dir, 'nix/store/abc-big/README'), 'hello\n'.repeat(1000), { mode: 0o444 });
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/empty'), '');
  symlinkSync('/nix/store/abc-big', join(dir, 'current'));
  return dir;
}

test('tar.gz: gzip -t passes and gzip -dc gives the archive GNU tar writes for the same tree', async () => {
  const dir = sourceTree();
  const gz = join(tmp, 'out.tar.gz');
  writeFileSync(gz, await collect(gzipCompressor()(tarStream(treeFromDisk(dir)))));
  execFileSync('gzip', ['-t', gz]);
  const gnu = execFileSync('bash', ['-c', 'cd "$1" && LC_ALL=C tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -c *', 'x', dir], { maxBuffer: 1 << 28 });
  const unpacked = execFileSync('gzip', ['-dc', gz], { maxBuffer: 1 << 28 });
  assert.ok(unpacked.equals(gnu), `gzip -dc gives ${unpacked.length} bytes, GNU tar ${gnu.length}`);
});

test('gzip output is deterministic: no time, no name, the same bytes on every run; levels change the bytes', async () => {
  const input = mixed(500_000, 7);
  const once = async (level?: Parameters<typeof gzipCompressor>[0]) => collect(gzipCompressor(level)((async function* () { yield input.subarray(0, 1000); yield input.subarray(1000); })()));
  const a = await once();
  await new Promise((r) => setTimeout(r, 1100)); // a second later: a header time would differ
  const b = await once();
  assert.ok(a.equals(b));
  assert.deepEqual([...a.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'gzip magic, deflate, no flags (no file name)');
  assert.deepEqual([...a.subarray(4, 8)], [0, 0, 0, 0], 'mtime 0');
  const fast = await once(1);
  assert.ok(!fast.equals(a));
  const file = join(tmp, 'fast.gz');
  writeFileSync(file, fast);
  assert.ok(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 24 }).equals(input));
});

test('gzip streams: compressed output comes out before the input ends', async () => {
  let pulled = 0;
  let outputsBeforeEnd = 0;
  const total = 40;
  async function* input() {
    for (let i = 0; i < total; i++) {
      pulled++;
      yield mixed(1 << 20, i);
    }
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of gzipCompressor(1)(input())) {
    if (pulled < total) outputsBeforeEnd++;
    parts.push(chunk.slice());
  }
  assert.ok(outputsBeforeEnd > 10, `only ${outputsBeforeEnd} outputs came before the end of the input`);
  const file = join(tmp, 'stream.gz');
  writeFileSync(file, Buffer.concat(parts));
  const out = execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 27 });
  assert.equal(out.length, total << 20);
  assert.ok(out.subarray(5 << 20, 6 << 20).equals(mixed(1 << 20, 5)));
  assert.ok(readFileSync(file).length < out.length);
});
