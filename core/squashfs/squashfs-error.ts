/** The tree, the options or a file's data cannot be written as squashfs. */
export class SquashfsError extends Error {
  override name = 'SquashfsError';
}
