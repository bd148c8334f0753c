#!/usr/bin/env node
// `npm start`: builds the web app into dist-web/ when its sources are newer than the build, then
// serves it on 127.0.0.1 (PORT, default 8080) with the demo config and demo binary cache preselected.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStaticServer, listen } from './serve.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist-web');
const SOURCES = ['web', 'worker', 'core', 'public', 'wasm', 'examples', 'vite.config.ts', 'package.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Runs `vite build` unless dist-web/ is newer than every source; returns the output directory. */
export function buildWebIfStale(log = console.log) {
  const built = existsSync(join(OUT, 'index.html')) ? statSync(join(OUT, 'index.html')).mtimeMs : 0;
  if (built >= Math.max(...SOURCES.map((s) => newest(join(ROOT, s))))) return OUT;
  log('building the web app (vite build → dist-web/) …');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(ROOT, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status})`);
  return OUT;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildWebIfStale();
  } catch (e) {
    console.error(`nix-imager: ${e.message}`);
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 8080);
  const url = await listen(createStaticServer({ root: OUT }), port).catch((e) => {
    console.error(`nix-imager: cannot listen on 127.0.0.1:${port}: ${e.message} (set PORT to another port)`);
    process.exit(1);
  });
  console.log(`nix-imager is running at ${url}`);
  console.log('Open it, press “Build”, and the demo tarball downloads. Ctrl-C stops the server.');
}
