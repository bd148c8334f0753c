// A GPT disk assembled from partition contents, streamed in order without copying them: the
// contents are SparseSources themselves, so a mostly empty filesystem stays mostly Zeros.
import { chunkLength, type ByteRange, type SparseChunk, type SparseSource } from '../io/sparse.ts';
import { backupGpt, entryBlocks, firstUsableLba, gptEntries, GptError, lastUsableLba, LBA, primaryGpt, protectiveMbr, type GptPartition, type GptTable } from '../primitives/gpt.ts';

export interface DiskPartition extends GptPartition {
  /** What the partition holds from its first byte; the rest of it reads as zeros. */
  readonly content?: SparseSource;
}

export interface DiskLayout extends GptTable {
  readonly partitions: readonly DiskPartition[];
}

const byStart = (layout: DiskLayout) => [...layout.partitions].sort((a, b) => a.first - b.first);

/** Partitions inside the usable blocks, apart, each with room for its content. */
function checkLayout(t: DiskLayout): void {
  byStart(t).forEach((p, i, sorted) => {
    if (p.first < firstUsableLba(t) || p.last > lastUsableLba(t) || p.last < p.first)
      throw new GptError(`GPT partition "${p.name}" (LBA ${p.first}-${p.last}) is outside the usable blocks ${firstUsableLba(t)}-${lastUsableLba(t)}`);
    const next = sorted[i + 1];
    if (next && next.first <= p.last) throw new GptError(`GPT partitions "${p.name}" and "${next.name}" overlap`);
    const room = (p.last - p.first + 1) * LBA;
    if (p.content && p.content.size > room) throw new GptError(`partition "${p.name}" holds ${p.content.size} bytes but has room for ${room}`);
  });
}

function diskAllocated(layout: DiskLayout): ByteRange[] {
  const head: ByteRange = { offset: 0, length: (2 + entryBlocks(layout)) * LBA };
  const tailLength = (1 + entryBlocks(layout)) * LBA;
  const inner = byStart(layout).flatMap((p) => (p.content?.allocated() ?? []).map((r) => ({ offset: p.first * LBA + r.offset, length: r.length })));
  return [head, ...inner, { offset: layout.blocks * LBA - tailLength, length: tailLength }];
}

async function* diskChunks(layout: DiskLayout): AsyncGenerator<SparseChunk> {
  const primary = primaryGpt(layout);
  const backup = backupGpt(layout);
  yield protectiveMbr(layout.blocks);
  yield primary;
  let pos = LBA + primary.length;
  for (const p of byStart(layout)) {
    if (p.first * LBA > pos) yield { zeros: p.first * LBA - pos };
    pos = p.first * LBA;
    if (!p.content) continue;
    let given = 0;
    for await (const c of p.content.chunks()) {
      given += chunkLength(c);
      if (given > p.content.size) break;
      yield c;
    }
    if (given > p.content.size) throw new GptError(`partition "${p.name}" content runs past its size of ${p.content.size} bytes`);
    if (given < p.content.size) throw new GptError(`partition "${p.name}" content ended after ${given} of its ${p.content.size} bytes`);
    pos += p.content.size;
  }
  const tail = layout.blocks * LBA - backup.length;
  if (tail > pos) yield { zeros: tail - pos };
  yield backup;
}

/** The whole disk: protective MBR, primary GPT, the partitions' contents at their LBAs, backup GPT. */
export function partitionedDisk(layout: DiskLayout): SparseSource {
  checkLayout(layout);
  gptEntries(layout);
  return { size: layout.blocks * LBA, allocated: () => diskAllocated(layout), chunks: () => diskChunks(layout) };
}
