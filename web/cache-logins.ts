// Private caches' credentials, by cache origin. They live in this page's memory, and in the origin's
// localStorage only for the caches the user ticked "remember" for; they are never part of the config,
// so no link, export or error message can carry them.
import type { CacheLogin, OriginLogin } from '../worker/cache-fetch.ts';

const STORAGE_KEY = 'nix-imager-cache-logins';

export class CacheLogins {
  private readonly logins = new Map<string, CacheLogin>();
  private readonly remembered = new Set<string>();

  constructor(private readonly storage: Storage | null) {
    for (const { origin, login } of this.load()) {
      this.logins.set(origin, login);
      this.remembered.add(origin);
    }
  }

  get(origin: string): CacheLogin | undefined {
    return this.logins.get(origin);
  }

  isRemembered(origin: string): boolean {
    return this.remembered.has(origin);
  }

  /** Sets (or with undefined, forgets) the credentials for `origin`, kept in storage only when `remember`. */
  set(origin: string, login: CacheLogin | undefined, remember: boolean): void {
    if (login === undefined) this.logins.delete(origin);
    else this.logins.set(origin, login);
    if (remember && login !== undefined) this.remembered.add(origin);
    else this.remembered.delete(origin);
    this.save();
  }

  /** What the build worker gets: the credentials of `origins` only. */
  for(origins: readonly string[]): OriginLogin[] {
    return origins.flatMap((origin) => {
      const login = this.logins.get(origin);
      return login === undefined ? [] : [{ origin, login }];
    });
  }

  private load(): OriginLogin[] {
    try {
      const v = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? '[]') as unknown;
      return Array.isArray(v) ? v.filter(isOriginLogin) : [];
    } catch {
      return [];
    }
  }

  private save(): void {
    const kept = this.for([...this.remembered]);
    try {
      if (kept.length === 0) this.storage?.removeItem(STORAGE_KEY);
      else this.storage?.setItem(STORAGE_KEY, JSON.stringify(kept));
    } catch {
      // Storage disabled or full: the credentials still hold for this session.
    }
  }
}

function isOriginLogin(v: unknown): v is OriginLogin {
  const x = v as OriginLogin | null;
  if (typeof x?.origin !== 'string' || typeof x.login !== 'object' || x.login === null) return false;
  return x.login.kind === 'token' ? typeof x.login.token === 'string' : x.login.kind === 'basic' && typeof x.login.user === 'string' && typeof x.login.password === 'string';
}
