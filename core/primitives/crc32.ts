// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the check of .xz headers, GPT headers and
// partition arrays, and other small on-disk records.

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from `seed` (the CRC of what came before). */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed;
  for (const b of bytes) c = CRC32_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
