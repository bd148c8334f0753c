import { binaryToText, bytesToBinary, type BinaryString } from '../io/binary-string.ts';
import { createSha256 } from './sha256.ts';
import type { NixHash } from './hash.ts';

/** One file system object of a NAR, in NAR (pre-)order. `path` is the binary string of the components joined by `/`, `''` for the root. */
export type NarEntry =
  | { type: 'directory'; path: BinaryString }
  | { type: 'regular'; path: BinaryString; executable: boolean; size: number; offset: number }
  | { type: 'symlink'; path: BinaryString; target: BinaryString };

export class NarError extends Error {
  override name = 'NarError';
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

const EMPTY = new Uint8Array(0);

class Truncated extends Error {}

/** Pulls bytes from the chunk stream; reads that fit one chunk return views, not copies. */
class ChunkReader {
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  /** Stream offset of `chunk[0]`. */
  private chunkStart = 0;
  private readonly source: AsyncIterator<Uint8Array>;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.source = input[Symbol.asyncIterator]();
  }

  get offset(): number {
    return this.chunkStart + this.pos;
  }

  /** False at the end of input. */
  private async pull(): Promise<boolean> {
    for (;;) {
      const r = await this.source.next();
      if (r.done) return false;
      if (r.value.length === 0) continue;
      this.chunkStart += this.chunk.length;
      this.chunk = r.value;
      this.pos = 0;
      return true;
    }
  }

  /** The next `n` bytes as a view, consumed, if the current chunk holds them; else undefined and nothing consumed. */
  readNow(n: number): Uint8Array | undefined {
    if (this.chunk.length - this.pos < n) return undefined;
    const view = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** Like readNow, without consuming. */
  peekNow(n: number): Uint8Array | undefined {
    return this.chunk.length - this.pos < n ? undefined : this.chunk.subarray(this.pos, this.pos + n);
  }

  async read(n: number): Promise<Uint8Array> {
    if (this.chunk.length - this.pos >= n) {
      const view = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      return view;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.pos === this.chunk.length && !(await this.pull())) throw new Truncated();
      const take = Math.min(n - got, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
    }
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.pos === this.chunk.length && !(await this.pull())) throw new Truncated();
      const take = Math.min(left, this.chunk.length - this.pos);
      this.pos += take;
      left -= take;
    }
  }

  async atEnd(): Promise<boolean> {
    return this.pos === this.chunk.length && !(await this.pull());
  }

  async close(): Promise<void> {
    await this.source.return?.();
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

  const decodeLength = (b: Uint8Array): number => {
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
    if (hi >= 0x200000) fail(`length field ${hi} * 2^32 + ${lo} is too large`);
    return hi * 0x100000000 + lo;
  };
  const readLength = async (): Promise<number> => decodeLength(await r.read(8));
  const checkPadding = (bytes: Uint8Array, from: number): void => {
    for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) fail('non-zero padding after a string');
  };
  const checkLength = (len: number, max: number, what: string): void => {
    if (len > max) fail(`${what} is ${len} bytes long, more than the limit of ${max}`);
  };
  const readStringAcrossChunks = async (max: number, what: string): Promise<BinaryString> => {
    const len = await readLength();
    checkLength(len, max, what);
    const bytes = await r.read(len + padding(len));
    checkPadding(bytes, len);
    return bytesToBinary(bytes.subarray(0, len));
  };
  /**
   * A length-framed string of at most `max` bytes, as a binary string. Synchronous when the
   * current chunk holds all of it (nearly always): a promise per token would dominate the time.
   */
  const readString = (max: number, what: string): BinaryString | Promise<BinaryString> => {
    const head = r.peekNow(8);
    if (head === undefined) return readStringAcrossChunks(max, what);
    const len = decodeLength(head);
    checkLength(len, max, what);
    const framed = r.readNow(8 + len + padding(len));
    if (framed === undefined) return readStringAcrossChunks(max, what);
    checkPadding(framed, 8 + len);
    return bytesToBinary(framed.subarray(8, 8 + len));
  };
  const token = (): BinaryString | Promise<BinaryString> => readString(MAX_TOKEN, 'a keyword');
  const check = (got: string, want: string): void => {
    if (got !== want) fail(`expected ${JSON.stringify(want)}, found ${JSON.stringify(got)}`);
  };
  const expect = (want: string): void | Promise<void> => {
    const got = token();
    if (typeof got === 'string') return check(got, want);
    return got.then((g) => check(g, want));
  };

  try {
    const magic = await readString(MAX_TOKEN, 'the magic');
    if (magic !== MAGIC) fail(`not a NAR: the magic is ${JSON.stringify(magic)}, not "${MAGIC}"`);
    const stack: Frame[] = [];
    for (;;) {
      await expect('(');
      await expect('type');
      const type = await token();
      let finished = true;
      if (type === 'regular') {
        let field = await token();
        const executable = field === 'executable';
        if (executable) {
          if ((await readLength()) !== 0) fail('the executable marker has a non-empty value');
          field = await token();
        }
        if (field !== 'contents') fail(`expected "contents" in a regular file, found ${JSON.stringify(field)}`);
        const size = await readLength();
        const offset = r.offset;
        yield { type: 'regular', path, executable, size, offset };
        await r.skip(size);
        checkPadding(await r.read(padding(size)), 0);
        await expect(')');
      } else if (type === 'symlink') {
        await expect('target');
        const target = await readString(MAX_TARGET_LENGTH, 'the symlink target');
        if (target === '') fail('the symlink target is empty');
        if (target.includes('\0')) fail('the symlink target contains a NUL byte');
        yield { type: 'symlink', path, target };
        await expect(')');
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
        if (finished) {
          if (stack.length === 0) {
            if (!(await r.atEnd())) fail('bytes follow the end of the archive');
            return;
          }
          await expect(')');
        }
        const frame = stack[stack.length - 1]!;
        path = frame.path;
        const field = await token();
        if (field === ')') {
          stack.pop();
          finished = true;
          continue;
        }
        if (field !== 'entry') fail(`expected "entry" or ")" in a directory, found ${JSON.stringify(field)}`);
        await expect('(');
        await expect('name');
        const name = await readString(MAX_NAME_LENGTH, 'a file name');
        if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
          fail(`invalid file name ${JSON.stringify(binaryToText(name))}`);
        }
        if (frame.prevName !== undefined && name <= frame.prevName) {
          fail(`directory entries are not strictly sorted: ${JSON.stringify(binaryToText(name))} follows ${JSON.stringify(binaryToText(frame.prevName))}`);
        }
        frame.prevName = name;
        await expect('node');
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
export function narHashingTap(input: AsyncIterable<Uint8Array>): {
  chunks: AsyncIterable<Uint8Array>;
  result(): { narHash: NixHash; narSize: number };
} {
  const hash = createSha256();
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
