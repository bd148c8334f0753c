#!/usr/bin/env node
// The CLI is TypeScript bundled into dist/ by `npm install` (the "prepare" script).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(cli)) {
  console.error('nix-imager: dist/cli.mjs is missing; run `npm install` (or `npm run build:cli`) in the project first');
  process.exit(1);
}
await import(cli.href);
