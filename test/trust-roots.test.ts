// The page's trust rules (web/trust.ts) on a stand-in Storage: what a config from outside must ask
// for, what typing and consent settle, and what is kept in the browser (never requireSigs off).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigJson } from '../web/config-draft.ts';
import { TrustRoots } from '../web/trust.ts';

const BASE = 'https://imager.example/app/';
const NIXOS_KEY = 'cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=';
const OTHER_KEY = 'other-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, v),
  };
}

const roots = (storage: Storage) => new TrustRoots(storage, BASE, { keys: [NIXOS_KEY], substituters: ['https://cache.nixos.org', './demo-cache'] });
const cfg = (extra: Partial<ConfigJson>): ConfigJson => ({ format: 'tarball', ...extra });

test('defaults and the same cache written another way ask nothing; a new key, cache or requireSigs off is asked for', () => {
  const t = roots(memoryStorage());
  assert.deepEqual(t.ask(cfg({})), { keys: [], substituters: [], sigsOff: false });
  assert.deepEqual(t.ask(cfg({ substituters: ['https://cache.nixos.org/', 'https://imager.example/app/demo-cache'], trustedPublicKeys: [NIXOS_KEY] })).substituters, []);
  assert.deepEqual(t.ask(cfg({ substituters: ['./demo-cache/../evil'], trustedPublicKeys: [OTHER_KEY], requireSigs: false })), {
    keys: [OTHER_KEY],
    substituters: ['./demo-cache/../evil'],
    sigsOff: true,
  });
});

test('consent is remembered across page loads, requireSigs off only until a config arrives from outside', () => {
  const storage = memoryStorage();
  const asked = cfg({ substituters: ['https://private.example'], trustedPublicKeys: [OTHER_KEY], requireSigs: false });
  const t = roots(storage);
  t.confirm(asked);
  assert.deepEqual(t.ask(asked), { keys: [], substituters: [], sigsOff: false });
  t.arrived();
  assert.equal(t.ask(asked).sigsOff, true);
  assert.ok(!/requireSigs|false/.test(storage.getItem('nix-imager-trust') ?? ''), 'requireSigs off was stored');
  assert.deepEqual(roots(storage).ask(asked), { keys: [], substituters: [], sigsOff: true });
});

test('what the user types is theirs; what was already in the field when they typed is not', () => {
  const t = roots(memoryStorage());
  t.handEdit({ field: 'trustedPublicKeys', added: [OTHER_KEY] });
  t.handEdit({ field: 'substituters', added: ['https://mine.example'] });
  t.handEdit({ field: 'requireSigs', value: false });
  assert.deepEqual(t.ask(cfg({ substituters: ['https://mine.example', 'https://theirs.example'], trustedPublicKeys: [OTHER_KEY], requireSigs: false })), {
    keys: [],
    substituters: ['https://theirs.example'],
    sigsOff: false,
  });
});
