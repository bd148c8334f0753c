import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'xz-wasm-build-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('wasm/build.sh rebuilds the committed wasm/codecs.wasm bit for bit from the pinned Debian sources', () => {
  const out = join(tmp, 'codecs.wasm');
  const r = spawnSync('sh', ['wasm/build.sh', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `wasm/build.sh failed:\n${r.stdout}\n${r.stderr}`);
  assert.ok(readFileSync(out).equals(readFileSync('wasm/codecs.wasm')), 'rebuilt codecs.wasm differs from the committed one');
});
