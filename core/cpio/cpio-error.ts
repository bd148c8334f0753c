/** Raised when the tree cannot be written as a newc cpio archive, or a file's data does not match its size. */
export class CpioError extends Error {
  override name = 'CpioError';
}
