import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationFor, NetrcError, parseNetrc, type CacheCredentials } from '../core/cache/credentials.ts';

const creds = (netrc: string, tokens: Record<string, string> = {}): CacheCredentials => ({ netrc: parseNetrc(netrc), tokens: new Map(Object.entries(tokens)) });

test('netrc as Cachix and Attic document it gives Basic auth to that host only (RFC 7617 encoding)', () => {
  const c = creds('machine private.cachix.org\n  password s3cr3t-token\nmachine Attic.Example.com login Aladdin password "open sesame"\n');
  assert.equal(authorizationFor('https://private.cachix.org/nix-cache-info', c), `Basic ${Buffer.from(':s3cr3t-token').toString('base64')}`);
  // The port is ignored and host names compare without case; RFC 7617's own example.
  assert.equal(authorizationFor('https://attic.example.com:8443/ci/abc.narinfo', c), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  assert.equal(authorizationFor('https://cache.nixos.org/abc.narinfo', c), undefined);
  assert.equal(authorizationFor('https://evil.private.cachix.org/', c), undefined);
  assert.equal(authorizationFor('file:///tmp/cache/nix-cache-info', c), undefined);
});

test('default applies to hosts no machine names; the first matching machine wins; macdef and account are skipped', () => {
  const c = creds('# comment\nmachine a.example login one password p1\nmachine a.example login two password p2\naccount x\nmacdef init\ncd /pub\nmachine evil password leaked\n\ndefault login anon password any\n');
  assert.equal(authorizationFor('https://a.example/', c), `Basic ${Buffer.from('one:p1').toString('base64')}`);
  assert.equal(authorizationFor('https://b.example/', c), `Basic ${Buffer.from('anon:any').toString('base64')}`);
  assert.equal(authorizationFor('https://evil/', c), `Basic ${Buffer.from('anon:any').toString('base64')}`, 'a macro body is not an entry');
});

test('a bearer token for a host takes precedence over netrc', () => {
  const c = creds('machine cache.example password p', { 'cache.example': 'tok-123' });
  assert.equal(authorizationFor('https://cache.example/x.narinfo', c), 'Bearer tok-123');
});

test('malformed netrc files are refused with the line', () => {
  assert.throws(() => parseNetrc('password p\n'), (e: Error) => e instanceof NetrcError && /line 1: "password" before any "machine"/.test(e.message));
  assert.throws(() => parseNetrc('machine a\nlogin'), /line 2: "login" needs a value/);
  assert.throws(() => parseNetrc('machine a password "unterminated'), /no closing quote/);
  assert.throws(() => parseNetrc('machine a\n  user bob'), /line 2: unexpected word/);
});
