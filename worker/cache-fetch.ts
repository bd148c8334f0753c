// The build worker's fetch for binary caches: the user's credentials go to the one origin they were
// entered for (core's authorizationFor forms the header), and a refusal the browser hides behind
// "Failed to fetch" is named for what it is: the cache's CORS policy, or its demand for credentials.
import { authorizationFor, type CacheCredentials } from '../core/cache/credentials.ts';
import { CacheAuthError, HttpError, type Fetch } from '../core/cache/http.ts';

/** A private cache's credentials as the user entered them in the page. */
export type CacheLogin = { kind: 'token'; token: string } | { kind: 'basic'; user: string; password: string };

export interface OriginLogin {
  /** `scheme://host[:port]`: the credentials go to this origin only. */
  origin: string;
  login: CacheLogin;
}

/** The cache answered, but its CORS headers do not let this page read the answer. Retrying cannot help. */
export class CorsError extends HttpError {
  override name = 'CorsError';
}

function credentialsFor(host: string, login: CacheLogin): CacheCredentials {
  return login.kind === 'token'
    ? { netrc: [], tokens: new Map([[host, login.token]]) }
    : { netrc: [{ machine: host, login: login.user, password: login.password }], tokens: new Map() };
}

/** An opaque (no-cors) HEAD succeeds when the server answers at all: then a failed fetch was a CORS refusal. */
async function answers(url: string, signal: AbortSignal | null | undefined): Promise<boolean> {
  try {
    await fetch(url, { method: 'HEAD', mode: 'no-cors', credentials: 'omit', signal });
    return true;
  } catch {
    return false;
  }
}

/** `fetch` with each origin's credentials; `refused` hears of every CorsError and CacheAuthError before it is thrown. */
export function cacheFetch(logins: readonly OriginLogin[], refused: (e: HttpError) => void = () => {}): Fetch {
  const refuse = (e: HttpError) => {
    refused(e);
    return e;
  };
  return async (url, init) => {
    const { origin, hostname } = new URL(url);
    const login = logins.find((l) => l.origin === origin)?.login;
    const authorization = login && authorizationFor(url, credentialsFor(hostname.toLowerCase(), login));
    const headers = new Headers(init?.headers);
    if (authorization) headers.set('authorization', authorization);
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers });
    } catch (e) {
      if (init?.signal?.aborted || !(e instanceof TypeError) || !(await answers(url, init?.signal))) throw e;
      throw refuse(new CorsError(
        `${origin} answered, but its CORS headers do not let this page read ${url}: the cache must send Access-Control-Allow-Origin` +
          (authorization ? ' and allow the Authorization header (Access-Control-Allow-Headers: Authorization) in its answer to the preflight request' : ''),
        url,
      ));
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      const what = authorization
        ? `refused the credentials entered for ${origin}`
        : `wants credentials: enter a token or a user and password for ${origin} under Binary caches → Credentials`;
      throw refuse(new CacheAuthError(`HTTP ${res.status} for ${url}: the cache ${what}`, url, res.status));
    }
    return res;
  };
}
