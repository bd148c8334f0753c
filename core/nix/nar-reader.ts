import { binaryToText, bytesToBinary, type BinaryString } from '../io/binary-string.ts';
import { createSha256, type Sha256 } from '../primitives/sha256.ts';
import type { NixHash } from './hash.ts';
import { NixImagerError } from '../errors.ts';

/** One file system object of a NAR, in NAR (pre-)order. `path` is the binary string of the components joined by `/`, `''` for the root. */
export type NarEntry =
  | { type: 'directory'; path: BinaryString }
  | { type: 'regular'; path: BinaryString; executable: boolean; size: number; offset: number }
  | { type: 'symlink'; path: BinaryString; target: BinaryString };

export class NarError extends NixImagerError {
  override name = 'NarError';
  readonly code = 'nar';
  constructor(
    readonly narPath: BinaryString,
    readonly offset: number,
    rule: string,
  ) {
    super(`invalid NAR at ${narPath === '' ? 'its root' : JSON.stringify(binaryToText(narPath))} (byte ${offset}): ${rule}`);
  }
}

const MAGIC = 'nix-archive-1';
/** Longer than any keyword of the format. */
const MAX_TOKEN = 16;
/** NAME_MAX of Linux and of Nix's own NAR tools. */
export const MAX_NAME_LENGTH = 255;
/** PATH_MAX - 1. */
export const MAX_TARGET_LENGTH = 4095;
/** Directory nesting limit: keeps a hostile NAR from building quadratically long paths. */
export const MAX_DEPTH = 1024;

/**
 * Bytes every node header and directory step fits in (tokens, a name of ≤ 255 bytes, a target
 * of ≤ 4095): the parser makes this much contiguous, then reads tokens synchronously.
 * An await per token would cost more than the parsing itself.
 */
const WINDOW = 8192;

const EMPTY = new Uint8Array(0);

/** The chunk in hand ends before what is being read (a signal inside the reader, never thrown out of it). */
class Truncated extends NixImagerError {
  readonly code = 'nar';
  constructor() {
    super('truncated');
  }
}

/**
 * Pulls bytes from the chunk stream. Reads inside the current chunk return views, not copies.
 * Where a window must span two chunks, `fill` copies it into a small buffer and keeps the chunk
 * it came from, to go back to reading that chunk in place once the copied part is passed.
 */
class ChunkReader {
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  /** Stream offset of `chunk[0]`. */
  private chunkStart = 0;
  /** After a fill: `source` continues at `chunk[at]`, its bytes from `from` on are not yet in `chunk`. */
  private split: { source: Uint8Array; at: number; from: number } | undefined;
  private ended = false;
  private readonly input: AsyncIterator<Uint8Array>;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.input = input[Symbol.asyncIterator]();
  }

  get offset(): number {
    return this.chunkStart + this.pos;
  }

  private get available(): number {
    return this.chunk.length - this.pos;
  }

  /** The bytes after the current chunk, or undefined at the end of input. */
  private async next(): Promise<Uint8Array | undefined> {
    if (this.split !== undefined) {
      const rest = this.split.source.subarray(this.split.from);
      this.split = undefined;
      if (rest.length > 0) return rest;
    }
    while (!this.ended) {
      const r = await this.input.next();
      if (r.done) this.ended = true;
      else if (r.value.length > 0) return r.value;
    }
    return undefined;
  }

  private advance(to: Uint8Array): void {
    this.chunkStart += this.chunk.length;
    this.chunk = to;
    this.pos = 0;
  }

  /** Back to the split chunk itself once the read position is in its copied part. */
  private resume(): void {
    if (this.split === undefined || this.pos < this.split.at) return;
    this.chunkStart += this.split.at;
    this.pos -= this.split.at;
    this.chunk = this.split.source;
    this.split = undefined;
  }

  /** True when `n` bytes are contiguous in the current chunk. */
  has(n: number): boolean {
    return this.available >= n;
  }

  /** Makes `n` bytes contiguous (fewer only at the end of input), copying fewer than `n` bytes. */
  async fill(n: number): Promise<void> {
    this.resume();
    if (this.available >= n) return;
    const parts = [this.chunk.subarray(this.pos)];
    let have = this.available;
    let split: ChunkReader['split'];
    while (have < n) {
      const c = await this.next();
      if (c === undefined) break;
      const take = Math.min(c.length, n - have);
      parts.push(c.subarray(0, take));
      if (take < c.length) split = { source: c, at: have, from: take };
      have += take;
    }
    const merged = new Uint8Array(have);
    let at = 0;
    for (const part of parts) {
      merged.set(part, at);
      at += part.length;
    }
    this.chunkStart += this.pos;
    this.chunk = merged;
    this.pos = 0;
    this.split = split;
  }

  /** The next `n` bytes as a view of the current chunk; Truncated if it holds fewer (call `fill` first). */
  read(n: number): Uint8Array {
    if (this.available < n) throw new Truncated();
    const view = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** Skips `n` bytes of any size without copying. */
  async skip(n: number): Promise<void> {
    this.resume();
    let left = n;
    while (left > this.available) {
      left -= this.available;
      const c = await this.next();
      if (c === undefined) {
        this.pos = this.chunk.length;
        throw new Truncated();
      }
      this.advance(c);
    }
    this.pos += left;
  }

  async atEnd(): Promise<boolean> {
    this.resume();
    if (this.available > 0) return false;
    const c = await this.next();
    if (c === undefined) return true;
    this.advance(c);
    return false;
  }

  async close(): Promise<void> {
    await this.input.return?.();
  }
}

function padding(len: number): number {
  return (8 - (len % 8)) % 8;
}

type Frame = { path: BinaryString; prevName: BinaryString | undefined };

/**
 * Reads a NAR stream with every rule of Nix's NAR parser (magic, framing, zero padding,
 * token order, valid and strictly sorted names, non-empty targets, nothing after the root),
 * yielding entries as they are seen. File contents are skipped, not copied. Throws only NarError.
 */
export async function* readNar(input: AsyncIterable<Uint8Array>): AsyncGenerator<NarEntry> {
  const r = new ChunkReader(input);
  let path: BinaryString = '';
  const fail = (rule: string): never => {
    throw new NarError(path, r.offset, rule);
  };
  // Everything below reads synchronously from a window made contiguous by `r.fill(WINDOW)`.
  const readLength = (): number => {
    const b = r.read(8);
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
    if (hi >= 0x200000) fail(`length field ${hi} * 2^32 + ${lo} is too large`);
    return hi * 0x100000000 + lo;
  };
  const checkPadding = (bytes: Uint8Array, from: number): void => {
    for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) fail('non-zero padding after a string');
  };
  /** A length-framed string of at most `max` bytes, as a binary string. */
  const readString = (max: number, what: string): BinaryString => {
    const len = readLength();
    if (len > max) fail(`${what} is ${len} bytes long, more than the limit of ${max}`);
    const framed = r.read(len + padding(len));
    checkPadding(framed, len);
    return bytesToBinary(framed.subarray(0, len));
  };
  const token = (): BinaryString => readString(MAX_TOKEN, 'a keyword');
  const expect = (want: string): void => {
    const got = token();
    if (got !== want) fail(`expected ${JSON.stringify(want)}, found ${JSON.stringify(got)}`);
  };

  try {
    await r.fill(WINDOW);
    const magic = readString(MAX_TOKEN, 'the magic');
    if (magic !== MAGIC) fail(`not a NAR: the magic is ${JSON.stringify(magic)}, not "${MAGIC}"`);
    const stack: Frame[] = [];
    for (;;) {
      if (!r.has(WINDOW)) await r.fill(WINDOW);
      expect('(');
      expect('type');
      const type = token();
      let finished = true;
      if (type === 'regular') {
        let field = token();
        const executable = field === 'executable';
        if (executable) {
          if (readLength() !== 0) fail('the executable marker has a non-empty value');
          field = token();
        }
        if (field !== 'contents') fail(`expected "contents" in a regular file, found ${JSON.stringify(field)}`);
        const size = readLength();
        const offset = r.offset;
        yield { type: 'regular', path, executable, size, offset };
        await r.skip(size);
        if (!r.has(WINDOW)) await r.fill(WINDOW);
        checkPadding(r.read(padding(size)), 0);
        expect(')');
      } else if (type === 'symlink') {
        expect('target');
        const target = readString(MAX_TARGET_LENGTH, 'the symlink target');
        if (target === '') fail('the symlink target is empty');
        if (target.includes('\0')) fail('the symlink target contains a NUL byte');
        yield { type: 'symlink', path, target };
        expect(')');
      } else if (type === 'directory') {
        if (stack.length >= MAX_DEPTH) fail(`directories nest deeper than ${MAX_DEPTH} levels`);
        yield { type: 'directory', path };
        stack.push({ path, prevName: undefined });
        finished = false;
      } else {
        fail(`unknown file type ${JSON.stringify(type)}`);
      }

      // Close what this node finished, up to the next entry to read (or the end).
      for (;;) {
        if (finished && stack.length === 0) {
          if (!(await r.atEnd())) fail('bytes follow the end of the archive');
          return;
        }
        if (!r.has(WINDOW)) await r.fill(WINDOW);
        if (finished) expect(')');
        const frame = stack[stack.length - 1]!;
        path = frame.path;
        const field = token();
        if (field === ')') {
          stack.pop();
          finished = true;
          continue;
        }
        if (field !== 'entry') fail(`expected "entry" or ")" in a directory, found ${JSON.stringify(field)}`);
        expect('(');
        expect('name');
        const name = readString(MAX_NAME_LENGTH, 'a file name');
        if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
          fail(`invalid file name ${JSON.stringify(binaryToText(name))}`);
        }
        if (frame.prevName !== undefined && name <= frame.prevName) {
          fail(`directory entries are not strictly sorted: ${JSON.stringify(binaryToText(name))} follows ${JSON.stringify(binaryToText(frame.prevName))}`);
        }
        frame.prevName = name;
        expect('node');
        path = frame.path === '' ? name : `${frame.path}/${name}`;
        break;
      }
    }
  } catch (e) {
    // Other errors are NarErrors or came from the input stream itself (not ours to rename).
    if (e instanceof Truncated) throw new NarError(path, r.offset, 'the archive is truncated');
    throw e;
  } finally {
    await r.close();
  }
}

/** Passes NAR chunks through while hashing and counting them; `result()` after the stream ends. */
export function narHashingTap(input: AsyncIterable<Uint8Array>, sha256: () => Sha256 = createSha256): {
  chunks: AsyncIterable<Uint8Array>;
  result(): { narHash: NixHash; narSize: number };
} {
  const hash = sha256();
  let size = 0;
  let digest: Uint8Array | undefined;
  return {
    chunks: (async function* () {
      for await (const chunk of input) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
      digest = hash.digest();
    })(),
    result() {
      if (digest === undefined) throw new Error('narHashingTap: result() asked before the stream ended');
      return { narHash: { algo: 'sha256', digest }, narSize: size };
    },
  };
}
