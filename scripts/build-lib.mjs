#!/usr/bin/env node
// Builds the library entry points of package.json "exports" into dist/lib/ (run by "prepare", so
// `npm pack` and `npm install` make it): tsc emits the modules and their declarations file for file,
// then the few things tsc leaves alone are fixed up, and Node's codec worker is bundled beside them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const OUT = 'dist/lib';
rmSync(OUT, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}
// tsc rewrites `.ts` in the imports of the .js it emits, but not in declarations nor in
// `new URL('./x.ts', import.meta.url)` (a worker's module, which bundlers follow).
for (const file of files(OUT)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/((?:from|import)\s*\(?\s*|new URL\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
  if (fixed !== text) writeFileSync(file, fixed);
}

// node/codec-pool.ts starts ./codec-worker.mjs beside itself when not running from source.
await build({
  entryPoints: { 'codec-worker': 'node/codec-worker-entry.ts' },
  outdir: join(OUT, 'node'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
// core/codec/wasm-codecs.ts and node/codec-wasm.ts find the codecs module at <lib>/wasm/codecs.wasm.
mkdirSync(join(OUT, 'wasm'), { recursive: true });
copyFileSync('wasm/codecs.wasm', join(OUT, 'wasm/codecs.wasm'));
