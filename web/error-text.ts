/** What went wrong, in words, and what to do about it: errors arrive from the worker as name + message. */
export interface Explained {
  title: string;
  detail: string;
  advice: string;
}

export function isCancel(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

export function explain(e: unknown): Explained {
  const name = e instanceof Error ? e.name : 'Error';
  const detail = e instanceof Error ? e.message : String(e);
  switch (name) {
    case 'ConfigError':
    case 'ConfigLinkError':
      return { title: 'The config is not valid', detail, advice: 'Fix the field named above in the form (or in the imported JSON) and try again.' };
    case 'UnavailablePathsError':
      return { title: 'Some store paths are not in the binary caches', detail, advice: 'Check the store paths and the substituters; with “Require signatures” on, the trusted keys must include the cache’s signing key.' };
    case 'NarVerificationError':
      return {
        title: 'A downloaded NAR failed verification',
        detail,
        advice: 'The binary cache served bytes that do not match the signed narinfo, so nothing was kept. Try again later or use another substituter; if it persists, the cache is damaged.',
      };
    case 'HttpError':
    case 'TypeError':
      return { title: 'A binary cache could not be reached', detail, advice: 'Check the network and the substituter URLs; the cache must allow cross-origin requests (CORS) from this page.' };
    case 'LocalFileMissingError':
      return { title: 'A local file is missing', detail, advice: 'Drop the file onto the Contents section, or change that entry to a store path or text.' };
    case 'QuotaExceededError':
      return { title: 'The browser’s storage is full', detail, advice: 'Clear the NAR cache, free disk space, or build a smaller closure.' };
    default:
      return { title: 'The build failed', detail, advice: 'The message above says what failed; nothing half-written was kept.' };
  }
}
