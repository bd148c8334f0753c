import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../core/pipeline/config.ts';

const P = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-toplevel';

function fails(json: unknown, field: string) {
  assert.throws(
    () => parseConfig(json),
    (e: unknown) => e instanceof ConfigError && e.field === field,
    `expected a ConfigError on ${field}`,
  );
}

test('nixpkgs defaults fill what the config leaves out', () => {
  const c = parseConfig({ format: 'tarball', storeContents: [{ object: P, symlink: '/run/current-system' }] });
  assert.deepEqual(c.substituters, ['https://cache.nixos.org']);
  assert.deepEqual(c.trustedPublicKeys, ['cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=']);
  assert.equal(c.requireSigs, true);
  assert.equal(c.compression, 'xz');
  assert.equal(c.fileName, 'nixos-system-x86_64-linux.tar.xz');
  assert.deepEqual(c.storeContents, [{ object: P, symlink: '/run/current-system' }]);
});

test('contents: store, local and text sources; symlink "none"', () => {
  const c = parseConfig({
    format: 'tarball',
    compression: 'none',
    storeContents: [{ object: P, symlink: 'none' }],
    contents: [
      { source: `${P}/init`, target: '/sbin/init' },
      { source: './motd', target: '/etc/motd' },
      { text: '24.05', target: '/etc//nixos-version' },
    ],
  });
  assert.equal(c.storeContents[0]!.symlink, null);
  assert.deepEqual(
    c.contents.map((x) => [x.source.kind, x.target]),
    [['store', '/sbin/init'], ['local', '/etc/motd'], ['text', '/etc/nixos-version']],
  );
  assert.equal(c.fileName, 'nixos-system-x86_64-linux.tar');
});

test('each kind of bad config names the field that is wrong', () => {
  fails([], '(top level)');
  fails({}, 'format');
  fails({ format: 'zip' }, 'format');
  fails({ format: 'tarball', storeContents: [] }, 'storeContents');
  fails({ format: 'tarball', storeContents: [{ object: '/nix/store/short-x' }] }, 'storeContents[0].object');
  fails({ format: 'tarball', storeContents: [{ object: P, symlink: 'relative' }] }, 'storeContents[0].symlink');
  fails({ format: 'tarball', storeContents: [{ object: P }], contents: [{ text: 'x', target: '/../etc/passwd' }] }, 'contents[0].target');
  fails({ format: 'tarball', storeContents: [{ object: P }], contents: [{ text: 'x', target: '/a/../../b' }] }, 'contents[0].target');
  fails({ format: 'tarball', storeContents: [{ object: P }], contents: [{ text: 'x' }] }, 'contents[0].target');
  fails({ format: 'tarball', storeContents: [{ object: P }], contents: [{ source: 'a', text: 'b', target: '/x' }] }, 'contents[0]');
  fails({ format: 'tarball', storeContents: [{ object: P }], contents: [{ text: 'a', target: '/x' }, { text: 'b', target: '/x/' }] }, 'contents[1].target');
  fails({ format: 'tarball', storeContents: [{ object: P }], compression: 'lz4' }, 'compression');
  fails({ format: 'tarball', storeContents: [{ object: P }], xzPreset: 10 }, 'xzPreset');
  fails({ format: 'tarball', storeContents: [{ object: P }], trustedPublicKeys: ['nokey'] }, 'trustedPublicKeys[0]');
  fails({ format: 'tarball', storeContents: [{ object: P }], requireSigs: 'no' }, 'requireSigs');
  fails({ format: 'tarball', storeContents: [{ object: P }], substituters: 'https://x' }, 'substituters');
  fails({ format: 'tarball', storeContents: [{ object: P }], typo: 1 }, 'typo');
  fails({ format: 'tarball', storeContents: [{ object: P }], iso: {} }, 'iso');
  fails({ format: 'iso', iso: { usbBootable: true, bootable: true } }, 'iso.isohybridMbrImage');
  fails({ format: 'iso', iso: { volumeId: 'x' } }, 'iso.volumeId');
});

test('an error message says the field and the problem in words', () => {
  assert.throws(
    () => parseConfig({ format: 'tarball', storeContents: [{ object: P }], contents: [{ text: 'x', target: '/../etc' }] }),
    /contents\[0\]\.target: "\/\.\.\/etc" would land outside the image/,
  );
});
