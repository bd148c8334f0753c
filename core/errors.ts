/**
 * One vocabulary for everything a build can fail with. `code` says what kind of failure it is (the
 * CLI's wording and the page's headline are chosen by it); `subject` is what it concerns: a store
 * path, a config field, a URL. Errors cross threads and workers as ErrorData, never as bare strings.
 */
export type ErrorCode =
  /** The config (or a file it names) is not valid. */
  | 'config'
  /** A key or signature is malformed or not trusted. */
  | 'signature'
  /** No substituter has a trusted narinfo for a store path. */
  | 'missing-path'
  /** A binary cache could not be reached, or kept failing after the retries. */
  | 'download'
  /** Downloaded bytes do not match what the signed narinfo promises. */
  | 'verification'
  /** A NAR or other Nix metadata breaks its format's rules. */
  | 'nar'
  /** The image cannot be written as asked (a name, a size or a layout a format cannot hold). */
  | 'image'
  /** Files, storage, workers or memory of the platform failed. */
  | 'io'
  /** Cancelled by the caller. */
  | 'aborted';

export interface ErrorData {
  code: ErrorCode;
  name: string;
  message: string;
  subject?: string;
}

export abstract class NixImagerError extends Error {
  abstract readonly code: ErrorCode;
  readonly subject: string | undefined;

  constructor(message: string, options: { subject?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.subject = options.subject;
  }

  toData(): ErrorData {
    return { code: this.code, name: this.name, message: this.message, ...(this.subject === undefined ? {} : { subject: this.subject }) };
  }
}

/** A build stopped by its caller (the CLI's SIGINT, the page's Cancel). */
export class AbortedError extends NixImagerError {
  // The name fetch and AbortSignal use, so every isAbort check sees it.
  override name = 'AbortError';
  readonly code = 'aborted';
}

/** What each code means, in a few words: the lead of the CLI's line and of the page's headline. */
export const ERROR_HEADLINES: Record<ErrorCode, string> = {
  config: 'the config is not valid',
  signature: 'a key or signature is not valid',
  'missing-path': 'store paths are missing from the binary caches',
  download: 'a binary cache is unavailable',
  verification: 'a download failed verification',
  nar: 'the binary cache served data this tool cannot read',
  image: 'the image cannot be written as configured',
  io: 'the platform failed (files, storage, workers or memory)',
  aborted: 'cancelled',
};

/** An error rebuilt on this side of a thread from the ErrorData the other side sent. */
class ReportedError extends NixImagerError {
  readonly code: ErrorCode;
  constructor(data: ErrorData) {
    super(data.message, { subject: data.subject });
    this.code = data.code;
    this.name = data.name;
  }
}

/** Errors a retry cannot help: the request was cancelled (as fetch, AbortSignal and comlink report it). */
export function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'CancelError');
}

/** What to send across a thread for any thrown value; errors from outside this vocabulary get the closest code. */
export function toErrorData(e: unknown): ErrorData {
  if (e instanceof NixImagerError) return e.toData();
  if (isAbort(e)) return { code: 'aborted', name: 'AbortError', message: (e as Error).message };
  if (e instanceof Error) return { code: foreignCode(e), name: e.name, message: e.message };
  return { code: 'io', name: 'Error', message: String(e) };
}

function foreignCode(e: Error): ErrorCode {
  // fetch rejects with a TypeError when the network or CORS refuses the request.
  if (e.name === 'TypeError' && /fetch|network/i.test(e.message)) return 'download';
  return 'io';
}

function isErrorData(v: unknown): v is ErrorData {
  return typeof v === 'object' && v !== null && typeof (v as ErrorData).code === 'string' && typeof (v as ErrorData).message === 'string';
}

/** The error `data` describes; anything else that was thrown across is made one. */
export function fromErrorData(data: unknown): NixImagerError {
  if (data instanceof NixImagerError) return data;
  return new ReportedError(isErrorData(data) ? data : toErrorData(data));
}

/** The code of any thrown value. */
export function errorCode(e: unknown): ErrorCode {
  return toErrorData(e).code;
}

/** `items` joined for a message, the first `max` of them and a count of the rest: a message stays one readable line. */
export function summarise(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
