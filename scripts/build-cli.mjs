#!/usr/bin/env node
// Bundles the Node CLI and its worker entries (the build thread, the codec workers) into dist/ (run by `npm install` through "prepare").
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'node/cli.ts', 'build-thread': 'node/build-thread-entry.ts', 'codec-worker': 'node/codec-worker-entry.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  loader: { '.wasm': 'file' },
  // SQLite's Node build finds its sqlite3.wasm beside itself, so it stays in node_modules (a dependency).
  external: ['@sqlite.org/sqlite-wasm'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
