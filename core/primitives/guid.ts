// GPT stores a GUID with its first three fields little-endian ("mixed-endian"); these convert
// between the text form and those 16 bytes.
import { NixImagerError } from '../errors.ts';

export class GuidError extends NixImagerError {
  override name = 'GuidError';
  readonly code = 'image';
}

/** The 16 on-disk bytes of a GUID written `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`. */
export function guidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || text.length !== 36) throw new GuidError(`not a GUID: "${text}"`);
  const b = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  return Uint8Array.of(b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8));
}

/** The text form of 16 on-disk GUID bytes (upper case, as sgdisk prints it). */
export function guidText(bytes: Uint8Array): string {
  const order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];
  return order.map((i) => (i < 0 ? '-' : bytes[i]!.toString(16).padStart(2, '0'))).join('').toUpperCase();
}
