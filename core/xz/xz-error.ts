/** A failure of xz encoding or decoding, with what went wrong in words. */
import { NixImagerError } from '../errors.ts';
export class XzError extends NixImagerError {
  override name = 'XzError';
  readonly code = 'image';
}

const LZMA_RET: Record<number, string> = {
  2: 'the stream has no integrity check',
  3: 'the integrity check type is not supported',
  5: 'out of memory',
  6: 'memory usage limit reached',
  7: 'not in the .xz format (bad magic bytes or stream header)',
  8: 'unsupported options (filter or header flags)',
  9: 'compressed data is corrupt (integrity check or structure mismatch)',
  10: 'the stream is truncated (it ends before its footer)',
  11: 'internal error in liblzma',
};

/** Words for a liblzma lzma_ret error code. */
export function lzmaRetMessage(ret: number): string {
  return LZMA_RET[ret] ?? `liblzma error ${ret}`;
}
