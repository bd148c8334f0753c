/** Raised when the tree cannot be written as a newc cpio archive, or a file's data does not match its size. */
import { NixImagerError } from '../errors.ts';
export class CpioError extends NixImagerError {
  override name = 'CpioError';
  readonly code = 'image';
}
