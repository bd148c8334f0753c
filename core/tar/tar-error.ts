/** Raised when the tree cannot be written as a tar archive, or a file's data does not match its size. */
export class TarError extends Error {
  override name = 'TarError';
}
