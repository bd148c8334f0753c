import { createSHA256 } from 'hash-wasm';
import type { Sha256 } from '../core/primitives/sha256.ts';

/**
 * A factory of incremental SHA-256s (hash-wasm's WebAssembly build) that all share one instance, so
 * making one stays synchronous as Platform.sha256 requires. Each keeps its own state; the instance
 * swaps states (a few hundred bytes) only when another hash than the last one is fed.
 */
export async function wasmSha256(): Promise<() => Sha256> {
  const hasher = await createSHA256();
  hasher.init();
  const fresh = hasher.save();
  let owner: { state: Uint8Array } | undefined;
  const use = (me: { state: Uint8Array }) => {
    if (owner === me) return;
    if (owner !== undefined) owner.state = hasher.save();
    hasher.load(me.state);
    owner = me;
  };
  return () => {
    const me = { state: fresh };
    return {
      update(b) {
        use(me);
        hasher.update(b);
      },
      digest() {
        use(me);
        owner = undefined;
        return hasher.digest('binary');
      },
    };
  };
}
