// The htree name hash: half MD4 over the name in 32-byte pieces, bytes read as signed chars
// (the filesystem says so in s_flags), seeded with s_hash_seed. Only the major hash orders
// entries; its low bit is left free for the collision mark of index entries.

const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;
const DEFAULT_SEED = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
/** The hash the kernel keeps for end of directory: a name hashing to it gets the one below. */
const EOF_HASH = 0x7fffffff * 2;

const rol = (x: number, s: number): number => ((x << s) | (x >>> (32 - s))) >>> 0;
const f = (x: number, y: number, z: number): number => z ^ (x & (y ^ z));
const g = (x: number, y: number, z: number): number => ((x & y) + ((x ^ y) & z)) >>> 0;
const h = (x: number, y: number, z: number): number => x ^ y ^ z;

type Mix = (x: number, y: number, z: number) => number;
/** One half-MD4 round: for each step, the word order and shift; words rotate a, d, c, b. */
const ROUNDS: [Mix, number, number[], number[]][] = [
  [f, 0, [0, 1, 2, 3, 4, 5, 6, 7], [3, 7, 11, 19]],
  [g, K2, [1, 3, 5, 7, 0, 2, 4, 6], [3, 5, 9, 13]],
  [h, K3, [3, 7, 2, 6, 1, 5, 0, 4], [3, 9, 11, 15]],
];

function transform(buf: number[], words: Uint32Array): void {
  const s = [buf[0]!, buf[1]!, buf[2]!, buf[3]!];
  for (const [mix, k, order, shifts] of ROUNDS) {
    for (let step = 0; step < 8; step++) {
      // Step n updates a, d, c, b in turn: index (4 - n % 4) % 4.
      const t = (4 - (step % 4)) % 4;
      const x = words[order[step]!]!;
      const sum = (s[t]! + mix(s[(t + 1) % 4]!, s[(t + 2) % 4]!, s[(t + 3) % 4]!) + x + k) >>> 0;
      s[t] = rol(sum, shifts[step % 4]!);
    }
  }
  for (let i = 0; i < 4; i++) buf[i] = (buf[i]! + s[i]!) >>> 0;
}

/** Packs up to 32 bytes of `name` from `at` into 8 words, padded with the length pattern. */
function packWords(name: Uint8Array, at: number, left: number, words: Uint32Array): void {
  let pad = (left | (left << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  const n = Math.min(left, 32);
  let val = pad;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const c = name[at + i]!;
    val = ((c >= 128 ? c - 256 : c) + (val << 8)) >>> 0;
    if (i % 4 === 3) {
      words[w++] = val;
      val = pad;
    }
  }
  if (w < 8) words[w++] = val;
  while (w < 8) words[w++] = pad;
}

/** The 16-byte seed as four little-endian words; all zero means the default. */
export function hashSeedWords(seed: Uint8Array): number[] {
  const v = new DataView(seed.buffer, seed.byteOffset, 16);
  const words = [0, 1, 2, 3].map((i) => v.getUint32(i * 4, true));
  return words.every((w) => w === 0) ? DEFAULT_SEED : words;
}

/** The major hash of a directory entry name (low bit clear). */
export function nameHash(name: Uint8Array, seedWords: number[]): number {
  const buf = [...seedWords];
  const words = new Uint32Array(8);
  for (let at = 0; at < name.length; at += 32) {
    packWords(name, at, name.length - at, words);
    transform(buf, words);
  }
  const hash = (buf[1]! & ~1) >>> 0;
  return hash === EOF_HASH ? EOF_HASH - 2 : hash;
}
