// Issue 16: the CLI attacked as a hostile cache and a careless user would. Each test is one
// defect found that way; every server runs on 127.0.0.1 and is stopped by the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { lstat, symlink, utimes } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import { BIN, run, runCli, type Run } from './helpers/cli.ts';
import { craftedCache, craftedConfig, smallNar, type CraftedCache } from './helpers/crafted-cache.ts';
import { writeNar } from './helpers/nar-builder.ts';
import { BinaryCache } from '../core/cache/binary-cache.ts';
import { resolvePaths } from '../core/cache/resolve.ts';
import { errorCode } from '../core/errors.ts';
import { parsePublicKey } from '../core/nix/signature.ts';
import type { NarCache } from '../core/store/nar-cache.ts';
import { fetchNar } from '../core/store/nar-fetch.ts';
import { nodeCodecs } from '../node/codec-wasm.ts';
import { fetchWithFiles } from '../node/file-fetch.ts';
import { narCacheDir } from '../node/nar-cache-dir.ts';
import { FileWriteError } from '../node/file-sink.ts';
import { serveWithFaults, type Fault, type FaultRule, type FaultServer } from './helpers/fault-server.ts';

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

/** A NAR of about 200 KB, and the same as a real `xz` compresses it. */
const bigNar = smallNar('nix-imager '.repeat(20_000));
const bigNarXz = () => new Uint8Array(execFileSync('xz', ['-c', '-6'], { input: bigNar }));

async function withFaults<T>(cache: CraftedCache, rules: FaultRule[], fn: (s: FaultServer) => Promise<T>): Promise<T> {
  const server = await serveWithFaults(cache.dir, { rules });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/** Builds `cache`'s path through `server` into a fresh directory; returns the run, its duration and the directory. */
async function buildFrom(cache: CraftedCache, server: FaultServer | undefined, flags: string[] = [], extra: Record<string, unknown> = {}) {
  const { dir, cfg } = await configDir(craftedConfig({ ...cache, url: server?.url ?? cache.url }, extra));
  const out = join(dir, 'out.tar');
  const t = performance.now();
  const r = await runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet', ...flags]);
  return { r, ms: performance.now() - t, dir, out };
}

/** Nothing but the config and the NAR cache (with only committed entries) in `dir`. */
async function assertNothingLeft(dir: string): Promise<void> {
  assert.deepEqual((await readdir(dir)).filter((f) => f !== 'config.json' && f !== 'cache'), [], 'no output, no temporary');
  const nar = await readdir(join(dir, 'cache', 'nar')).catch(() => [] as string[]);
  assert.deepEqual(nar.filter((f) => !/^[0-9a-z]{52}\.(nar|ok)$/.test(f)), [], 'no NAR cache temporary');
}

test('3: a NAR body that stalls, or trickles, fails after the idle/rate window and bounded retries, naming the path and URL', { timeout: 60_000 }, async () => {
  const cache = await craftedCache({ nar: bigNar });
  for (const rule of [{ stallAfter: 1000 }, { bytesPerSecond: 40 }] satisfies Fault[]) {
    await withFaults(cache, [{ match: 'nar/', ...rule }], async (s) => {
      const { r, ms, dir } = await buildFrom(cache, s, ['--timeout', '1', '--min-rate', '500']);
      assertFails(r, /stalled/);
      assert.ok(r.stderr.includes(cache.storePath) && r.stderr.includes(`${s.url}${cache.narFile}`), `names the path and the URL: ${r.stderr}`);
      assert.ok(ms < 20_000, `bounded in time: ${ms} ms`);
      assert.equal(s.requestsFor('nar/').length, 3, 'retried, a bounded number of times');
      await assertNothingLeft(dir);
    });
  }
});

test('3: a narinfo body that stalls fails after bounded retries, naming the path and URL', { timeout: 60_000 }, async () => {
  await withFaults(plain, [{ match: '.narinfo', stallAfter: 10 }], async (s) => {
    const { r, ms, dir } = await buildFrom(plain, s, ['--timeout', '1']);
    assertFails(r, /stalled/);
    assert.ok(r.stderr.includes(plain.storePath) && r.stderr.includes('.narinfo'), r.stderr);
    assert.ok(ms < 30_000, `bounded in time: ${ms} ms`);
    await assertNothingLeft(dir);
  });
});

test('4: bytes without end after the NAR file stop being read at FileSize (or what NarSize allows)', { timeout: 60_000 }, async () => {
  const reference = await buildFrom(plain, undefined);
  assert.equal(reference.r.code, 0, reference.r.stderr);
  const expected = await readFile(reference.out);
  const cases = [
    { name: 'xz with FileSize', cache: await craftedCache({ nar: bigNar, file: bigNarXz(), compression: 'xz' }), ok: true },
    { name: 'uncompressed without FileSize', cache: await craftedCache({ nar: bigNar, fileFields: false }), ok: true },
    // xz accepts zero padding after a stream: only the cap ends this one (with success or a clear error).
    { name: 'xz without FileSize', cache: await craftedCache({ nar: bigNar, file: bigNarXz(), compression: 'xz', fileFields: false }), ok: undefined },
  ];
  for (const c of cases) {
    await withFaults(c.cache, [{ match: 'nar/', endless: true }], async (s) => {
      const { r, ms, dir } = await buildFrom(c.cache, s, ['--timeout', '5']);
      if (c.ok) assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      else if (r.code !== 0) {
        assertFails(r, new RegExp(c.cache.storePath));
        await assertNothingLeft(dir);
      }
      assert.ok(ms < 20_000, `${c.name}: bounded in time (${ms} ms)`);
      const sent = s.requestsFor('nar/').reduce((n, q) => n + q.sent, 0);
      assert.ok(sent < 64 << 20, `${c.name}: the client stopped reading (${sent} bytes sent)`);
    });
  }
  assert.ok(expected.length > 0);
});

test('6: a narinfo or nix-cache-info without end is refused at a size cap, quickly and clearly', { timeout: 60_000 }, async () => {
  for (const match of ['.narinfo', 'nix-cache-info']) {
    await withFaults(plain, [{ match, endless: true }], async (s) => {
      const { r, ms, dir } = await buildFrom(plain, s);
      assertFails(r, /larger than \d+ bytes/);
      // A narinfo is about a store path; nix-cache-info about the whole cache.
      assert.ok(r.stderr.includes(match === '.narinfo' ? plain.storePath : `${s.url}nix-cache-info`), r.stderr);
      assert.ok(ms < 15_000, `quick: ${ms} ms`);
      const sent = s.requestsFor(match).reduce((n, q) => n + q.sent, 0);
      assert.ok(sent < 64 << 20, `the client stopped reading (${sent} bytes sent)`);
      await assertNothingLeft(dir);
    });
  }
});

/** Peak RSS in bytes of the CLI run with `args` (GNU time's maximum resident set size; the build thread shares the process). */
async function peakRss(args: string[]): Promise<{ r: Run; rss: number }> {
  const file = join(tmp, `rss-${++dirs}`);
  const r = await run('/usr/bin/time', ['-f', '%M', '-o', file, process.execPath, BIN, ...args]);
  return { r, rss: Number((await readFile(file, 'utf8')).trim().split('\n').pop()) * 1024 };
}

/** `copies` concatenated streams (xz) or frames (zstd) of 16 MiB of zeros each: valid, small, and vast when expanded. */
function bomb(tool: 'xz' | 'zstd', copies: number): Uint8Array {
  const one = execFileSync(tool, tool === 'xz' ? ['-0', '-T1', '-c'] : ['-1', '-q', '-c'], { input: new Uint8Array(16 << 20) });
  return new Uint8Array(Buffer.concat(Array.from({ length: copies }, () => one)));
}

test('5: a decompression bomb (2 GiB from a few hundred KB) is refused with peak RSS far below 512 MiB, xz and zstd', { timeout: 120_000 }, async () => {
  for (const [tool, compression] of [['xz', 'xz'], ['zstd', 'zstd']] as const) {
    const file = bomb(tool, 128);
    const cache = await craftedCache({ file, compression, name: `bomb-${tool}` });
    const { dir, cfg } = await configDir(craftedConfig(cache));
    const { r, rss } = await peakRss(['build', cfg, '--output', join(dir, 'out.tar'), '--cache-dir', join(dir, 'cache'), '--quiet']);
    console.log(`# ${tool} bomb of ${file.length} bytes (2 GiB expanded): peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
    assertFails(r, /larger than the narinfo's NarSize/);
    assert.ok(r.stderr.includes(cache.storePath), r.stderr);
    assert.ok(rss < 384 * 2 ** 20, `peak RSS ${rss} bytes`);
    await assertNothingLeft(dir);
  }
});

test('7: a contents target or storeContents symlink inside a store path of the closure is a config error', async () => {
  const dirNar = writeNar({ type: 'directory', entries: [['bin', { type: 'directory', entries: [['hello', { type: 'regular', contents: new TextEncoder().encode('hi\n') }]] }]] });
  const cache = await craftedCache({ nar: dirNar, name: 'with-bin' });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ contents: [{ text: 'evil\n', target: `${cache.storePath}/bin/evil` }] }, /contents\[0\]\.target/],
    [{ contents: [{ text: 'evil\n', target: `${cache.storePath}/etc/evil` }] }, /contents\[0\]\.target/],
    [{ storeContents: [{ object: cache.storePath, symlink: `${cache.storePath}/bin/link` }] }, /storeContents\[0\]\.symlink/],
  ];
  for (const [extra, field] of cases) {
    const { dir, cfg } = await configDir(craftedConfig(cache, extra));
    const r = await runCli(['build', cfg, '--output', join(dir, 'out.tar'), '--cache-dir', join(dir, 'cache'), '--quiet']);
    assertFails(r, field);
    assert.ok(r.stderr.includes(`is inside ${cache.storePath}`), r.stderr);
    await assertNothingLeft(dir);
  }
});

/** The CLI with stdout as raw bytes (runCli decodes it as text). */
function runCliRaw(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout: Buffer.concat(out), stderr }));
  });
}

async function referenceTar(): Promise<Buffer> {
  const ref = await buildFrom(plain, undefined);
  assert.equal(ref.r.code, 0, ref.r.stderr);
  return readFile(ref.out);
}

test('1: an output that is a FIFO, a device node, a symlink, a directory or "-" is written into, never replaced by a file', { timeout: 60_000 }, async () => {
  const expected = await referenceTar();
  const { dir, cfg } = await configDir(craftedConfig(plain));
  const build = (out: string) => runCli(['build', cfg, '--output', out, '--cache-dir', join(dir, 'cache'), '--quiet']);

  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const received = readFile(fifo);
  const viaFifo = await build(fifo);
  assert.equal(viaFifo.code, 0, viaFifo.stderr);
  assert.ok((await received).equals(expected), 'the reader of the FIFO got the image');
  assert.ok((await lstat(fifo)).isFIFO(), 'still a FIFO');

  const device = join(dir, 'null');
  execFileSync('mknod', [device, 'c', '1', '3']);
  const viaDevice = await build(device);
  assert.equal(viaDevice.code, 0, viaDevice.stderr);
  assert.ok((await lstat(device)).isCharacterDevice(), 'still the device node');

  const real = join(dir, 'real.tar');
  await writeFile(real, 'old contents');
  await symlink('real.tar', join(dir, 'link'));
  const viaLink = await build(join(dir, 'link'));
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.ok((await lstat(join(dir, 'link'))).isSymbolicLink(), 'the symlink stays');
  assert.ok((await readFile(real)).equals(expected), 'the file it names was replaced');

  const outDir = join(dir, 'images');
  await mkdir(outDir);
  assert.equal((await build(outDir)).code, 0);
  assert.deepEqual(await readdir(outDir), ['nixos-system-x86_64-linux.tar']);

  const viaStdout = await runCliRaw(['build', cfg, '--output', '-', '--cache-dir', join(dir, 'cache'), '--quiet']);
  assert.equal(viaStdout.code, 0, viaStdout.stderr);
  assert.ok(viaStdout.stdout.equals(expected), '-o - writes the image to standard output');
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.part-')), [], 'no temporaries');
});

test('8: no temporary is left when the NAR cache cannot be created or the final rename fails; stale ones of ours are swept', { timeout: 60_000 }, async () => {
  const { dir, cfg } = await configDir(craftedConfig(plain));
  await writeFile(join(dir, 'a-file'), '');
  const noCache = await runCli(['build', cfg, '--output', join(dir, 'out.tar'), '--cache-dir', join(dir, 'a-file', 'cache'), '--quiet']);
  assertFails(noCache, /cannot create the NAR cache directory .*a-file/);
  assert.deepEqual((await readdir(dir)).sort(), ['a-file', 'config.json'], 'no output, no temporary');

  // The output's name turns into a non-empty directory while the build runs: the rename fails.
  const slow = await craftedCache({ nar: bigNar });
  await withFaults(slow, [{ match: 'nar/', bytesPerSecond: 200_000 }], async (s) => {
    const b = await configDir(craftedConfig({ ...slow, url: s.url }));
    const out = join(b.dir, 'out.tar');
    const running = runCli(['build', b.cfg, '--output', out, '--cache-dir', join(b.dir, 'cache'), '--quiet']);
    while (!(await readdir(b.dir)).some((f) => f.includes('.part-'))) await sleep(20);
    await mkdir(join(out, 'in-the-way'), { recursive: true });
    assertFails(await running, /cannot put .*out\.tar in place/);
    assert.deepEqual((await readdir(b.dir)).filter((f) => f.includes('.part-')), [], 'the temporary was removed');
  });

  // Stale temporaries of dead builds go; fresh ones, and anything not ours, stay.
  const c = await configDir(craftedConfig(plain));
  const narDir = join(c.dir, 'cache', 'nar');
  await mkdir(narDir, { recursive: true });
  const old = new Date(Date.now() - 2 * 3600_000);
  const staleOut = join(c.dir, '.out.tar.part-999999-lx0abc');
  const freshOut = join(c.dir, '.out.tar.part-999998-lx0abd');
  const staleNar = join(narDir, `.${'a'.repeat(52)}.999999.k3j2.tmp`);
  const notOurs = join(c.dir, '.out.tar.partial');
  for (const f of [staleOut, freshOut, staleNar, notOurs]) await writeFile(f, 'x');
  for (const f of [staleOut, staleNar, notOurs]) await utimes(f, old, old);
  const r = await runCli(['build', c.cfg, '--output', join(c.dir, 'out.tar'), '--cache-dir', join(c.dir, 'cache'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  await assert.rejects(stat(staleOut), 'stale output temporary swept');
  await assert.rejects(stat(staleNar), 'stale NAR temporary swept');
  await stat(freshOut);
  await stat(notOurs);
});

test('9: a FIFO, a directory or a symlink loop at a NAR cache entry is a bad entry, replaced; the build neither hangs nor fails', { timeout: 60_000 }, async () => {
  const expected = await referenceTar();
  for (const kind of ['fifo', 'dir', 'loop'] as const) {
    const { dir, cfg } = await configDir(craftedConfig(plain));
    const narDir = join(dir, 'cache', 'nar');
    await mkdir(narDir, { recursive: true });
    const entry = join(narDir, `${plain.narKey}.nar`);
    if (kind === 'fifo') execFileSync('mkfifo', [entry]);
    if (kind === 'dir') await mkdir(join(entry, 'sub'), { recursive: true });
    if (kind === 'loop') await symlink(`${plain.narKey}.nar`, entry);
    const r = await runCli(['build', cfg, '--output', join(dir, 'out.tar'), '--cache-dir', join(dir, 'cache'), '--quiet']);
    assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
    assert.ok((await readFile(join(dir, 'out.tar'))).equals(expected), kind);
    assert.ok((await lstat(entry)).isFile(), `${kind}: the entry is a verified file now`);
  }
});

test('10: an unsupported Compression fails at once, not as a retried download; a huge failure is one bounded line', { timeout: 60_000 }, async () => {
  const bz = await craftedCache({ file: new Uint8Array([0x42, 0x5a, 0x68]), compression: 'bzip2', name: 'bz' });
  await withFaults(bz, [], async (s) => {
    const { r, dir } = await buildFrom(bz, s);
    assertFails(r, /compression "bzip2" is not supported/);
    assert.doesNotMatch(r.stderr, /download failed/);
    assert.equal(s.requestsFor('nar/').length, 0, 'nothing downloaded');
    await assertNothingLeft(dir);
  });
  const refs = Array.from({ length: 12_000 }, (_, i) => `/nix/store/${String(i).padStart(32, '0').replace(/[eotu]/g, 'a')}-missing-${i}`);
  const many = await craftedCache({ references: refs, name: 'many-refs' });
  const { r } = await buildFrom(many, undefined);
  assertFails(r, /could not be substituted/);
  assert.ok(r.stderr.length < 4096, `one bounded line: ${r.stderr.length} characters`);
  // Any message, however it came to be long (here a config field of 50 000 characters), is cut.
  const huge = await configDir({ ...craftedConfig(plain), ['x'.repeat(50_000)]: 1 });
  const cut = await runCli(['build', huge.cfg, '--output', join(huge.dir, 'out.tar'), '--quiet']);
  assertFails(cut, /config: x+… \(\d+ more characters\)$/);
  assert.ok(cut.stderr.length < 2100, `bounded: ${cut.stderr.length} characters`);
});

test('10: a full disk under the NAR cache is blamed on the disk, naming the file, and not retried', async () => {
  const cache = new BinaryCache(plain.url, fetchWithFiles);
  const [resolved] = (await resolvePaths([plain.storePath], [cache], { trustedKeys: [parsePublicKey(plain.publicKey)], requireSigs: true })).values();
  let creates = 0;
  const full: NarCache = {
    open: async () => null,
    remove: async () => {},
    async create() {
      creates++;
      return {
        write: async () => {
          throw new FileWriteError('writing /var/cache/nix-imager/nar/x.nar failed: ENOSPC: no space left on device, write');
        },
        commit: async () => {},
        abort: async () => {},
      };
    },
  };
  await assert.rejects(fetchNar(resolved!, full, { codecs: nodeCodecs }), (e: Error) => {
    assert.doesNotMatch(e.message, /bad NAR|download failed/);
    assert.match(e.message, /x\.nar failed: ENOSPC/);
    assert.equal(errorCode(e), 'io');
    return true;
  });
  assert.equal(creates, 1, 'not retried');
});

test('11: a 240-character output name works, invalid UTF-8 in the config is refused, --threads 96 stays small', { timeout: 120_000 }, async () => {
  const long = await configDir(craftedConfig(plain));
  const name = `${'n'.repeat(236)}.tar`;
  const r = await runCli(['build', long.cfg, '--output', join(long.dir, name), '--cache-dir', join(long.dir, 'cache'), '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  await stat(join(long.dir, name));

  const json = Buffer.from(JSON.stringify(craftedConfig(plain, { contents: [{ text: 'x', target: '/etc/QQ' }] })));
  const bad = Buffer.concat([json.subarray(0, json.indexOf('QQ')), Buffer.from([0xff, 0xfe]), json.subarray(json.indexOf('QQ') + 2)]);
  const u = await configDir(bad);
  assertFails(await runCli(['build', u.cfg, '--output', join(u.dir, 'out.tar'), '--quiet', '--cache-dir', join(u.dir, 'cache')]), /not valid for encoding utf-8/i);
  assert.deepEqual((await readdir(u.dir)).filter((f) => f !== 'config.json' && f !== 'cache'), []);

  const t = await configDir(craftedConfig(plain, { compression: 'xz' }));
  const { r: threads, rss } = await peakRss(['build', t.cfg, '--output', join(t.dir, 'out.tar.xz'), '--cache-dir', join(t.dir, 'cache'), '--quiet', '--threads', '96']);
  assert.equal(threads.code, 0, threads.stderr);
  console.log(`# --threads 96 for a ${(await stat(join(t.dir, 'out.tar.xz'))).size}-byte image: peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(rss < 512 * 2 ** 20, `peak RSS ${rss}`);
});

test('12: a NAR cache entry removed while the build uses it is fetched and verified again, not "vanished"', async () => {
  const cache = new BinaryCache(plain.url, fetchWithFiles);
  const [resolved] = (await resolvePaths([plain.storePath], [cache], { trustedKeys: [parsePublicKey(plain.publicKey)], requireSigs: true })).values();
  const narDir = join(tmp, 'vanishing-nar');
  const nar = await fetchNar(resolved!, narCacheDir(narDir), { codecs: nodeCodecs });
  const file = nar.entries.find((e) => e.type === 'regular')!;
  assert.ok(file.type === 'regular');
  for (let round = 0; round < 2; round++) {
    // Another process clears the cache between the check and the image writer's read.
    await rm(join(narDir, `${plain.narKey}.nar`));
    const opened = await nar.open();
    try {
      assert.equal(new TextDecoder().decode(await opened.read(file.offset, file.size)), 'hello\n');
    } finally {
      await opened.close();
    }
  }
  assert.ok((await lstat(join(narDir, `${plain.narKey}.nar`))).isFile(), 'the entry is back, verified');
});

test('9: a signal ends a build that waits for a reader of its FIFO output (no blocking open), within seconds', { timeout: 60_000 }, async () => {
  const { dir, cfg } = await configDir(craftedConfig(plain));
  const fifo = join(dir, 'nobody-reads');
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [BIN, 'build', cfg, '--output', fifo, '--cache-dir', join(dir, 'cache'), '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((ok) => child.on('close', ok));
  await sleep(2000);
  const t = performance.now();
  child.kill('SIGTERM');
  const code = await exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /^nix-imager: interrupted$/m);
  assert.ok(performance.now() - t < 15_000, `ended ${performance.now() - t} ms after the signal`);
});
