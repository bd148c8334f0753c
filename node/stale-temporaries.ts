import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A temporary of ours untouched this long, whose process is gone, was left by a SIGKILL or a crash. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the regular files in `dir` whose names match `pattern` (our temporaries' names, with the
 * writer's pid as group `pid`), that nobody wrote to for STALE_AFTER_MS and whose writer is not
 * running. Best effort: what cannot be removed stays.
 */
export async function sweepStale(dir: string, pattern: RegExp): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const before = Date.now() - STALE_AFTER_MS;
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.groups?.['pid']);
    if (!pid || pid === process.pid || alive(pid)) continue;
    const path = join(dir, name);
    const st = await lstat(path).catch(() => null);
    if (st?.isFile() && st.mtimeMs < before) await unlink(path).catch(() => {});
  }
}
