import { PARTITION_TYPE } from '../primitives/gpt.ts';
import { guidBytes } from '../primitives/guid.ts';
import { NixImagerError } from '../errors.ts';

const ROOT_BY_SYSTEM: Record<string, string> = {
  'x86_64-linux': PARTITION_TYPE.rootX86_64,
  'aarch64-linux': PARTITION_TYPE.rootAarch64,
};

export class PartitionTypeError extends NixImagerError {
  override name = 'PartitionTypeError';
  readonly code = 'config';
}

/** The discoverable root partition type for a Nix system double such as "x86_64-linux". */
export function rootPartitionType(system: string): Uint8Array {
  const t = ROOT_BY_SYSTEM[system];
  if (!t) throw new PartitionTypeError(`no discoverable root partition type for system "${system}" (known: ${Object.keys(ROOT_BY_SYSTEM).join(', ')})`);
  return guidBytes(t);
}
