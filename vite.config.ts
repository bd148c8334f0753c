import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const OUT = join(ROOT, 'dist-web');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/**
 * Writes dist-web/precache.json: every file of the app the service worker (public/sw.js) stores at
 * install, so the installed app opens offline. The demo binary cache is data, not app, and stays out.
 */
function precacheList(): Plugin {
  return {
    name: 'nix-imager-precache',
    apply: 'build',
    closeBundle() {
      // Also called after a failed build, which wrote nothing.
      if (!existsSync(join(OUT, 'index.html'))) return;
      const files = filesUnder(OUT)
        .map((p) => relative(OUT, p).split(sep).join('/'))
        .filter((f) => !f.startsWith('demo-cache/') && f !== 'sw.js' && f !== 'precache.json' && !f.endsWith('.map'))
        .sort();
      const version = files.filter((f) => f.startsWith('assets/')).join(',');
      writeFileSync(join(OUT, 'precache.json'), JSON.stringify({ version, files: ['./', ...files] }, null, 1));
    },
  };
}

export default defineConfig({
  root: join(ROOT, 'web'),
  publicDir: join(ROOT, 'public'),
  base: './',
  build: {
    outDir: OUT,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  worker: { format: 'es' },
  // As @sqlite.org/sqlite-wasm documents: the dev server must not pre-bundle it away from its .wasm.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  server: { host: '127.0.0.1', fs: { allow: [ROOT] } },
  plugins: [precacheList()],
});
