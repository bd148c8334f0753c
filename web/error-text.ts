import { ERROR_HEADLINES, fromErrorData, type ErrorCode } from '../core/errors.ts';

/** What went wrong, in words, and what to do about it: the headline is chosen by the error's code. */
export interface Explained {
  title: string;
  detail: string;
  advice: string;
}

/** Errors arrive from the build worker as ErrorData; this page's own are errors already. */
export function isCancel(e: unknown): boolean {
  return fromErrorData(e).code === 'aborted';
}

const ADVICE: Record<ErrorCode, string> = {
  config: 'Fix the field named above in the form (or in the imported JSON) and try again.',
  signature: 'Check the trusted public keys: each must be "name:base64" and include the key the cache signs with.',
  'missing-path': 'Check the store paths and the substituters; with “Require signatures” on, the trusted keys must include the cache’s signing key.',
  download:
    'The cache did not answer, or kept failing after several tries: nothing is wrong with its bytes. Check the network and the substituter URLs (the cache must allow cross-origin requests from this page), or try again later.',
  verification:
    'The binary cache served bytes that do not match the signed narinfo, so nothing was kept. Try again later or use another substituter; if it persists, the cache is damaged.',
  nar: 'The cache served a NAR or narinfo that breaks its format; nothing was kept. Use another substituter.',
  image: 'A name, size or layout in the image is beyond what the format can hold; the message says which.',
  io: 'The message above says what failed; nothing half-written was kept.',
  aborted: 'Nothing was written.',
};

/** Advice more precise than the code's, for errors this page knows by name. */
const ADVICE_BY_NAME: Record<string, string> = {
  LocalFileMissingError: 'Drop the file onto the Contents section, or change that entry to a store path or text.',
  CorsError:
    'A browser may read a cache of another origin only if the cache allows it: Access-Control-Allow-Origin on its answers and, with credentials, Access-Control-Allow-Headers: Authorization on its answer to the preflight (OPTIONS) request. Ask the cache’s operator, or use the CLI.',
  CacheAuthError: 'Enter the cache’s token, or its user and password, under Binary caches → Credentials for private caches, and check that they are current.',
  QuotaExceededError: 'The browser’s storage is full: clear the NAR cache, free disk space, or build a smaller closure.',
};

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `online`: navigator.onLine, so an unreachable cache is blamed on the right thing. */
export function explain(e: unknown, online = true): Explained {
  const error = fromErrorData(e);
  const advice = ADVICE_BY_NAME[error.name] ?? ADVICE[error.code];
  const offline = !online && error.code === 'download' ? 'This browser is offline: reconnect, then try again. ' : '';
  return { title: capitalised(ERROR_HEADLINES[error.code]), detail: error.message, advice: offline + advice };
}
