/** Bridges between Web Streams and async iterables, portable to browsers without ReadableStream iteration. */

/**
 * The chunks of a Web stream. With `signal`, an abort cancels the stream at once (a read that
 * would otherwise wait forever on a stalled source ends) and the iteration throws the reason.
 */
export async function* readableChunks(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted();
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel(signal!.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      signal?.throwIfAborted();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export function toReadableStream(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

/** Reads a whole random-access file as chunks of `chunkSize`. */
export async function* randomAccessChunks(
  file: { size: number; read(offset: number, length: number): Promise<Uint8Array> },
  chunkSize = 1 << 20,
): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < file.size; at += chunkSize) {
    const chunk = await file.read(at, Math.min(chunkSize, file.size - at));
    if (chunk.length === 0) throw new Error(`file shrank while being read (at ${at} of ${file.size} bytes)`);
    yield chunk;
  }
}
