/** Raised when the tree cannot be written as a tar archive, or a file's data does not match its size. */
import { NixImagerError } from '../errors.ts';
export class TarError extends NixImagerError {
  override name = 'TarError';
  readonly code = 'image';
}
