// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): ext4's and jbd2's metadata checksums.
// Eight tables, so the loop takes eight bytes a step (ext4 checksums every inode and block it writes).

const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // Table k gives the CRC of a byte followed by k zero bytes.
  for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

/**
 * The CRC register after feeding `bytes` into `state`, with no inversion on either side: the form
 * ext4 chains (seed from the UUID, then inode number, then the record) and stores.
 */
export function crc32cUpdate(state: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = state >>> 0;
  let i = 0;
  for (const end8 = bytes.length - 7; i < end8; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c = t[7 * 256 + (lo & 0xff)]! ^ t[6 * 256 + ((lo >>> 8) & 0xff)]! ^ t[5 * 256 + ((lo >>> 16) & 0xff)]! ^ t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + bytes[i + 4]!]! ^ t[2 * 256 + bytes[i + 5]!]! ^ t[256 + bytes[i + 6]!]! ^ t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** The standard CRC-32C of `bytes` (initial ~0, final inversion). */
export function crc32c(bytes: Uint8Array): number {
  return ~crc32cUpdate(0xffffffff, bytes) >>> 0;
}
