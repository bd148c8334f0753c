// The service worker of the installed app: keeps the app's own files (listed in precache.json, written
// by vite.config.ts) so the page opens with the network off. Binary cache requests are not touched:
// narinfo files and NARs live in the origin private file system, managed by the build worker.
const CACHE = 'nix-imager-app';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const res = await fetch('./precache.json', { cache: 'no-cache' }).catch(() => null);
      // The dev server has no precache list: nothing to keep, every request goes to the network.
      if (res === null || !res.ok) return;
      const { files } = await res.json();
      const cache = await caches.open(CACHE);
      await cache.addAll(files.map((f) => new Request(f, { cache: 'no-cache' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const scope = new URL(self.registration.scope);

function isAppRequest(url) {
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return false;
  const path = url.pathname.slice(scope.pathname.length);
  return !path.startsWith('demo-cache/');
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !isAppRequest(url)) return;
  // Hashed build assets never change: cache first. Everything else (the page, the manifest):
  // network first, so an update shows up online, with the kept copy as the offline answer.
  const hashed = url.pathname.includes('/assets/');
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      if (hashed) {
        const hit = await cache.match(request);
        if (hit) return hit;
      }
      try {
        const res = await fetch(request);
        if (res.ok) await cache.put(request, res.clone());
        return res;
      } catch (e) {
        const hit = await cache.match(request, { ignoreSearch: true });
        if (hit) return hit;
        if (request.mode === 'navigate') {
          const page = await cache.match('./');
          if (page) return page;
        }
        throw e;
      }
    })(),
  );
});
