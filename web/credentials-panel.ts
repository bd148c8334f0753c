import type { CacheLogin } from '../worker/cache-fetch.ts';
import type { CacheLogins } from './cache-logins.ts';
import { h } from './dom.ts';

type Kind = 'none' | CacheLogin['kind'];

/** The http(s) origins of `substituters` (resolved against the page), in order, each once. */
export function cacheOrigins(substituters: readonly string[], base: string): string[] {
  const origins = substituters.flatMap((s) => {
    try {
      const u = new URL(s, base);
      return u.protocol === 'https:' || u.protocol === 'http:' ? [u.origin] : [];
    } catch {
      return [];
    }
  });
  return [...new Set(origins)];
}

/**
 * Credentials per cache origin, for private caches: a token (Bearer) or a user and password (Basic).
 * Inputs write straight into CacheLogins; nothing here touches the config.
 */
export class CredentialsPanel {
  readonly el = h('details', { class: 'credentials', id: 'credentials' });
  private origins: string[] = [];

  constructor(private readonly logins: CacheLogins) {
    this.render();
  }

  /** Shows a row per origin; redrawn only when the origins change, so typing keeps its focus. */
  update(origins: string[]): void {
    if (origins.join('\n') === this.origins.join('\n')) return;
    this.origins = origins;
    this.render();
  }

  private render(): void {
    if (this.origins.some((o) => this.logins.get(o) !== undefined)) this.el.open = true;
    this.el.replaceChildren(
      h('summary', {}, 'Credentials for private caches'),
      h(
        'p',
        { class: 'section-note' },
        'A token (sent as Authorization: Bearer) or a user and password (HTTP Basic), sent to that cache’s origin only. ',
        'Kept in this tab’s memory unless you tick “remember”; never put into links, exported JSON or messages. ',
        'A browser reaches a private cache only if the cache answers cross-origin requests (CORS) and allows the Authorization header.',
      ),
      ...this.origins.map((origin, i) => this.row(origin, i)),
    );
  }

  private row(origin: string, i: number): HTMLElement {
    const login = this.logins.get(origin);
    const remember = h('input', { type: 'checkbox', id: `cred-${i}-remember`, checked: this.logins.isRemembered(origin) });
    const store = (l: CacheLogin | undefined) => this.logins.set(origin, l, remember.checked);
    const input = (id: string, type: 'text' | 'password', value: string, placeholder: string, changed: () => void) =>
      h('input', { type, id, value, placeholder, autocomplete: 'off', spellcheck: 'false', class: 'mono', oninput: changed });
    let fields: HTMLInputElement[] = [];
    if (login?.kind === 'token') {
      const token = input(`cred-${i}-token`, 'password', login.token, 'token', () => store({ kind: 'token', token: token.value }));
      fields = [token];
    } else if (login?.kind === 'basic') {
      const basic = () => store({ kind: 'basic', user: user.value, password: password.value });
      const user = input(`cred-${i}-user`, 'text', login.user, 'user', basic);
      const password = input(`cred-${i}-password`, 'password', login.password, 'password', basic);
      fields = [user, password];
    }
    const kind = h(
      'select',
      {
        id: `cred-${i}-kind`,
        'aria-label': `Credentials for ${origin}`,
        onchange: () => {
          const k = kind.value as Kind;
          store(k === 'token' ? { kind: 'token', token: '' } : k === 'basic' ? { kind: 'basic', user: '', password: '' } : undefined);
          this.render();
        },
      },
      h('option', { value: 'none' }, 'no credentials'),
      h('option', { value: 'token' }, 'token'),
      h('option', { value: 'basic' }, 'user and password'),
    );
    kind.value = login?.kind ?? 'none';
    remember.addEventListener('change', () => store(this.logins.get(origin)));
    return h(
      'div',
      { class: 'row item credential', 'data-origin': origin },
      h('span', { class: 'mono origin' }, origin),
      kind,
      fields,
      login ? h('label', { class: 'check' }, remember, 'remember in this browser') : null,
    );
  }
}
