// The package as a user gets it: `npm pack`, installed into a fresh project. Its Node entry builds the
// demo to the bytes its own CLI writes, its core bundles for a browser with no Node built-ins, a strict
// TypeScript consumer type-checks against the shipped declarations, and the README's examples run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT, run } from './helpers/cli.ts';

let tmp: string;
/** The consumer project, with the packed tarball installed. */
let project: string;

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, { cwd });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The README's ```js example=<name> block. */
async function readmeExample(name: string): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp('```js example=' + name + '\\n([\\s\\S]*?)```').exec(readme);
  assert.ok(m, `README has an example=${name} block`);
  return m[1]!;
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nix-imager-package-'));
  // `npm pack` runs "prepare": the CLI bundle and dist/lib are built fresh from the sources.
  await ok('npm', ['pack', '--pack-destination', tmp, '--silent'], ROOT);
  const [tarball] = (await readdir(tmp)).filter((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  project = join(tmp, 'consumer');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(tmp, tarball)], project);
  await cp(join(ROOT, 'examples'), join(project, 'examples'), { recursive: true });
  await cp(join(ROOT, 'public/demo-cache'), join(project, 'public/demo-cache'), { recursive: true });
});
after(() => rm(tmp, { recursive: true, force: true }));

test('buildToFile from the installed package (the README example) writes the bytes of the installed CLI', async () => {
  await writeFile(join(project, 'node-example.mjs'), await readmeExample('node'));
  const said = await ok(process.execPath, ['node-example.mjs'], project);
  assert.match(said, /^nixos-system-x86_64-linux\.tar: \d+ bytes from 3 store paths$/m);
  await ok(process.execPath, ['node_modules/nix-imager/bin/nix-imager.mjs', 'build', 'examples/demo.json', '-o', 'cli.tar', '--cache-dir', join(tmp, 'cli-cache'), '-q'], project);
  const [api, cli] = await Promise.all([readFile(join(project, 'demo.tar')), readFile(join(project, 'cli.tar'))]);
  assert.ok(api.length > 10_000, `a tarball: ${api.length} bytes`);
  assert.ok(api.equals(cli), 'buildToFile and the CLI wrote the same bytes');
  // And both are a tar GNU tar reads, with the demo's file in it.
  assert.match(await ok('tar', ['-tf', 'demo.tar'], project), /^\.?\/?etc\/nixos-version-demo$/m);
});

test('the core and the web entry bundle for a browser (esbuild --platform=browser) with no Node built-ins; the core example runs', async () => {
  const entries = {
    minimal: "import { parseConfig, buildImage } from 'nix-imager';\nconsole.log(parseConfig, buildImage);\n",
    core: await readmeExample('core'),
    web: await readmeExample('web'),
  };
  for (const [name, source] of Object.entries(entries)) {
    await writeFile(join(project, `${name}.mjs`), source);
    const result = await build({
      entryPoints: [join(project, `${name}.mjs`)],
      absWorkingDir: project,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      outdir: join(project, 'bundle'),
      // The web entry's SQLite (for disk images) imports its .wasm as an asset URL, as vite does.
      loader: { '.wasm': 'file' },
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((i) => i.includes('node_modules/nix-imager/dist/lib/')), `${name}: bundled from the installed package: ${inputs.join(' ')}`);
    assert.deepEqual(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node\//.test(i.replace(/.*nix-imager\/dist\/lib\//, ''))), [], `${name}: no Node module`);
  }
  assert.equal((await ok(process.execPath, ['core.mjs'], project)).trim(), 'a 10240-byte tar');
});

test('a strict TypeScript consumer type-checks against the shipped declarations', async () => {
  const dir = join(project, 'ts');
  await mkdir(dir);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        // nix-imager/web runs in a worker (OPFS sync access handles): the WebWorker lib.
        lib: ['ES2023', 'WebWorker'],
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
      },
      files: ['consumer.ts'],
    }),
  );
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    join(dir, 'consumer.ts'),
    `import { buildImage, parseConfig, planBuild, platformWith, NixImagerError, type BuildConfig, type BuildSummary, type ErrorCode, type Platform } from 'nix-imager';
import { buildToFile, createNodePlatform, type BuildToFileOptions } from 'nix-imager/node';
import { createBrowserPlatform, opfsNarCache } from 'nix-imager/web';

const config: BuildConfig = parseConfig({ format: 'tarball', storeContents: [{ object: '/nix/store/x43yvbj2la5zls0h9avqvwdq1skan0nd-nixos-system-demo-24.05' }] });
const options: BuildToFileOptions = { configDir: '.', threads: 2, signal: new AbortController().signal, onProgress: (p) => console.log(p.stage, p.done, p.total) };
const summary: Promise<BuildSummary> = buildToFile({ format: 'tarball' }, 'out.tar', options);
const bytes: Promise<number> = summary.then((s) => s.bytes);
const node: Platform = createNodePlatform({ configDir: '.', cacheDir: '/tmp/cache', threads: 0 });
const minimal: Platform = platformWith({ fetch: (url) => fetch(url), narCache: node.narCache });
const code = (e: unknown): ErrorCode | undefined => (e instanceof NixImagerError ? e.code : undefined);
// @ts-expect-error: not an error code
const wrong: ErrorCode = 'tampered';
export { bytes, code, minimal, wrong, buildImage, planBuild, createBrowserPlatform, opfsNarCache, config };
`,
  );
  await ok(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], project);
});
