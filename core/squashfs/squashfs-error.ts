/** The tree, the options or a file's data cannot be written as squashfs. */
import { NixImagerError } from '../errors.ts';
export class SquashfsError extends NixImagerError {
  override name = 'SquashfsError';
  readonly code = 'image';
}
