import { NixImagerError } from '../errors.ts';

/** Raised when a tree cannot be written as a FAT volume (a name, a size, a symlink), or a file's data does not match its size. */
export class FatError extends NixImagerError {
  override name = 'FatError';
  readonly code = 'image';
}
