// Called first by main.ts (a call, not an import for its side effect: package.json's
// "sideEffects": false lets the bundler drop such imports): inside another site's frame the app does not start, so a page laid over
// it cannot trick the user into pressing Build or Trust (clickjacking). Servers should also send
// `Content-Security-Policy: frame-ancestors 'none'` (scripts/serve.mjs does); this covers hosts that don't.

function framedByOtherOrigin(): boolean {
  if (window.top === window.self) return false;
  try {
    return window.top?.location.origin !== location.origin;
  } catch {
    // Reading another origin's location throws.
    return true;
  }
}

export function refuseForeignFrame(): void {
  if (!framedByOtherOrigin()) return;
  const open = document.createElement('a');
  open.href = location.href;
  open.target = '_blank';
  open.rel = 'noopener';
  open.textContent = 'Open nix-imager in its own tab';
  const p = document.createElement('p');
  p.append('nix-imager does not run inside another site’s frame. ', open, '.');
  document.body.replaceChildren(p);
  document.body.dataset['state'] = 'framed';
  throw new Error('nix-imager refuses to run inside a frame of another origin');
}
