/**
 * Origin Private File System helpers for dedicated workers. Chromium's extras the TypeScript DOM
 * types lack are typed here: read-only sync handles (several readers of one file at once) and move().
 */
import { NixImagerError } from '../core/errors.ts';
type SyncMode = 'readwrite' | 'read-only';

interface ChromiumFileHandle {
  createSyncAccessHandle(options?: { mode: SyncMode }): Promise<FileSystemSyncAccessHandle>;
  move(dir: FileSystemDirectoryHandle, name: string): Promise<void>;
}

export class OpfsError extends NixImagerError {
  override name = 'OpfsError';
  readonly code = 'io';
}

/** `nix-imager/<path…>` in the origin's private file system, created on first use. */
export async function opfsDir(...path: string[]): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const name of ['nix-imager', ...path]) dir = await dir.getDirectoryHandle(name, { create: true });
  return dir;
}

export function syncHandle(file: FileSystemFileHandle, mode: SyncMode): Promise<FileSystemSyncAccessHandle> {
  return (file as unknown as ChromiumFileHandle).createSyncAccessHandle({ mode });
}

export async function fileIfExists(dir: FileSystemDirectoryHandle, name: string): Promise<FileSystemFileHandle | null> {
  try {
    return await dir.getFileHandle(name);
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

export async function removeIfExists(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (e) {
    if ((e as DOMException).name !== 'NotFoundError') throw e;
  }
}

/**
 * Renames `file` to `name` in `dir`, replacing what is there: the commit step of every
 * temp-name-then-rename write, so readers only ever see complete files under real names.
 */
export async function moveOver(file: FileSystemFileHandle, dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  const movable = file as unknown as ChromiumFileHandle;
  if (typeof movable.move !== 'function') throw new OpfsError('this browser cannot rename files in the origin private file system (FileSystemFileHandle.move)');
  try {
    await movable.move(dir, name);
  } catch (e) {
    // Older Chromium refuses to move onto an existing entry.
    if ((e as DOMException).name !== 'InvalidModificationError') throw e;
    await removeIfExists(dir, name);
    await movable.move(dir, name);
  }
}

export async function* fileEntries(dir: FileSystemDirectoryHandle): AsyncGenerator<FileSystemFileHandle> {
  for await (const handle of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (handle.kind === 'file') yield handle as FileSystemFileHandle;
  }
}

export function tempName(prefix: string): string {
  return `.${prefix}.${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.tmp`;
}
