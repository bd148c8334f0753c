// Issue 16: the CLI attacked as a hostile cache and a careless user would. Each test is one
// defect found that way; every server runs on 127.0.0.1 and is stopped by the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type Run } from './helpers/cli.ts';
import { craftedCache, craftedConfig, type CraftedCache } from './helpers/crafted-cache.ts';

let tmp: string;
let plain: CraftedCache;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-reliability-'));
  plain = await craftedCache();
});
after(() => rm(tmp, { recursive: true, force: true }));

let dirs = 0;

/** A fresh directory with `config.json` in it. */
async function configDir(cfg: unknown): Promise<{ dir: string; cfg: string }> {
  const dir = join(tmp, `case-${++dirs}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'config.json');
  await writeFile(path, typeof cfg === 'string' || cfg instanceof Uint8Array ? cfg : JSON.stringify(cfg));
  return { dir, cfg: path };
}

/** The CLI's failure contract: exit 1, one stderr line matching `why`. */
function assertFails(r: Run, why: RegExp): void {
  assert.equal(r.code, 1, `exit 1 (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  assert.match(lines[0]!, why);
}

test('2: a config fileName or system with "/" or ".." cannot choose where the image lands', async () => {
  const victim = join(tmp, 'escaped');
  for (const extra of [{ fileName: victim }, { fileName: '../../escaped' }, { fileName: '..' }, { system: '../../x' }, { system: 'a/b' }]) {
    const { dir, cfg } = await configDir(craftedConfig(plain, extra));
    const out = join(dir, 'out');
    await mkdir(out);
    const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet'], { cwd: dir });
    assertFails(r, /config: (fileName|system)/);
    assert.deepEqual(await readdir(out), [], `nothing written for ${JSON.stringify(extra)}`);
    await assert.rejects(stat(victim), 'nothing at the absolute fileName');
  }
  const r = await runCli(['build', (await configDir(craftedConfig(plain, { fileName: victim }))).cfg, '--quiet', '--cache-dir', join(tmp, 'c2')], { cwd: tmp });
  assertFails(r, /config: fileName: .* must be a file name/);
  await assert.rejects(stat(victim), 'nothing at the absolute fileName without -o');
});
