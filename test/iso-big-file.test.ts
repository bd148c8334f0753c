import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isoSize, isoStream } from '../core/iso9660/iso-writer.ts';
import { addPath, newDir } from '../core/image/tree.ts';
import { bytesSource, type DataSource } from '../core/io/data-source.ts';
import { sh } from './helpers/cli.ts';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-iso-big-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

const BIG = 4 * 2 ** 30 + 123_457; // over 4 GiB: needs two ISO 9660 extents
const TAIL = new TextEncoder().encode('the last bytes of a file over 4 GiB\n');

/** Zeros, then TAIL: a 4 GiB file that costs no disk and little time. */
function bigFile(): DataSource {
  const zeros = new Uint8Array(1 << 22);
  return {
    size: BIG,
    async *stream() {
      let left = BIG - TAIL.length;
      while (left > 0) {
        const n = Math.min(zeros.length, left);
        yield n === zeros.length ? zeros : zeros.subarray(0, n);
        left -= n;
      }
      yield TAIL;
    },
  };
}

function allZero(chunk: Uint8Array): boolean {
  const words = chunk.byteOffset % 8 === 0 && chunk.length % 8 === 0 ? new BigUint64Array(chunk.buffer, chunk.byteOffset, chunk.length / 8) : chunk;
  for (let i = 0; i < words.length; i++) if (words[i] !== 0n && words[i] !== 0) return false;
  return true;
}

test('a file over 4 GiB is written as a multi-extent file that xorriso and bsdtar read back whole', async () => {
  const root = newDir();
  addPath(root, 'big/zeros.img', { kind: 'file', mode: 0o444, data: bigFile() });
  addPath(root, 'small.txt', { kind: 'file', mode: 0o644, data: bytesSource(new TextEncoder().encode('small\n')) });
  const opts = { volumeID: 'BIGFILE' };
  const iso = join(tmp, 'big.iso');
  // A sparse output file: all-zero chunks are skipped, not written.
  const fh = await open(iso, 'w');
  let at = 0;
  for await (const chunk of isoStream(root, opts)) {
    if (!allZero(chunk)) await fh.write(chunk, 0, chunk.length, at);
    at += chunk.length;
  }
  await fh.truncate(at);
  await fh.close();
  assert.equal(at, isoSize(root, opts));

  const listing = await sh('xorriso', ['-indev', iso, '-lsl', '/big/zeros.img']);
  assert.match(listing, new RegExp(`\\s${BIG}\\s`), `xorriso sees the whole size: ${listing}`);
  const extents = await sh('xorriso', ['-indev', iso, '-find', '/big/zeros.img', '-exec', 'report_sections']);
  const sections = [...extents.matchAll(/File data lba:\s+(\d+)\s*,\s*\d+\s*,\s*\d+\s*,\s*(\d+)/g)].map((m) => Number(m[2]));
  assert.equal(sections.length, 2, `two extents: ${extents}`);
  assert.equal(sections[0], 0xfffff800, 'the first extent is as large as xorriso makes them');
  assert.equal(sections[0]! + sections[1]!, BIG);
  const bsd = await sh('bsdtar', ['-tvf', iso, 'big/zeros.img']);
  assert.match(bsd, new RegExp(`\\s${BIG}\\s`), `bsdtar sees the whole size: ${bsd}`);
  // The bytes across the extent boundary and at the very end come back right.
  const tail = await sh('bash', ['-c', 'set -o pipefail; bsdtar -xOf "$1" big/zeros.img | tail -c 36', 'x', iso]);
  assert.equal(tail, new TextDecoder().decode(TAIL));
});
