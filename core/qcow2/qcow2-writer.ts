// qcow2 version 3 (qemu's docs/interop/qcow2.txt) in one pass: the allocated() map tells which
// guest clusters hold data before any is read, so the header, L1 table, refcounts and L2 tables
// are computed first and the data clusters follow in guest order. Clusters that no allocated range
// touches are left out and read as zeros.
import { allocatedBlocks, blocksOf, type ContainerImage } from '../io/sparse-blocks.ts';
import type { SparseSource } from '../io/sparse.ts';

const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
const L2_ENTRIES = CLUSTER / 8;
/** 16-bit refcounts (refcount_order 4), qemu's default. */
const REFCOUNTS_PER_BLOCK = CLUSTER / 2;
const HEADER_LENGTH = 104;
/** L1/L2 entry flag: refcount is exactly one, so the cluster may be written in place. */
const COPIED = 1n << 63n;

const clustersFor = (bytes: number) => Math.ceil(bytes / CLUSTER);

/** Where everything goes, in clusters from the start of the file. */
interface Qcow2Plan {
  readonly size: number;
  readonly l1Entries: number;
  readonly l1Offset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  readonly refcountBlocks: number;
  /** L1 index of each L2 table, in file order. */
  readonly l2Tables: readonly number[];
  readonly l2Offset: number;
  /** Guest cluster index of each data cluster, in file order. */
  readonly dataClusters: readonly number[];
  readonly dataOffset: number;
  readonly totalClusters: number;
}

function plan(source: SparseSource): Qcow2Plan {
  const dataClusters = allocatedBlocks(source, CLUSTER);
  const l1Entries = Math.max(1, Math.ceil(source.size / (CLUSTER * L2_ENTRIES)));
  const l2Tables = [...new Set(dataClusters.map((c) => Math.floor(c / L2_ENTRIES)))];
  const l1Clusters = clustersFor(l1Entries * 8);
  const fixed = 1 + l1Clusters + l2Tables.length + dataClusters.length;
  // The refcount blocks count themselves and the table that lists them: grow until they cover all.
  let refcountBlocks = 1;
  let refcountTableClusters = 1;
  for (;;) {
    const total = fixed + refcountTableClusters + refcountBlocks;
    const needBlocks = Math.ceil(total / REFCOUNTS_PER_BLOCK);
    const needTable = clustersFor(needBlocks * 8);
    if (needBlocks <= refcountBlocks && needTable <= refcountTableClusters) break;
    refcountBlocks = Math.max(refcountBlocks, needBlocks);
    refcountTableClusters = Math.max(refcountTableClusters, needTable);
  }
  const l1Offset = CLUSTER;
  const refcountTableOffset = l1Offset + l1Clusters * CLUSTER;
  const l2Offset = refcountTableOffset + (refcountTableClusters + refcountBlocks) * CLUSTER;
  const dataOffset = l2Offset + l2Tables.length * CLUSTER;
  return {
    size: source.size,
    l1Entries,
    l1Offset,
    refcountTableOffset,
    refcountTableClusters,
    refcountBlocks,
    l2Tables,
    l2Offset,
    dataClusters,
    dataOffset,
    totalClusters: fixed + refcountTableClusters + refcountBlocks,
  };
}

function header(p: Qcow2Plan): Uint8Array {
  const h = new Uint8Array(CLUSTER);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x514649fb);
  v.setUint32(4, 3);
  v.setUint32(20, CLUSTER_BITS);
  v.setBigUint64(24, BigInt(p.size));
  v.setUint32(36, p.l1Entries);
  v.setBigUint64(40, BigInt(p.l1Offset));
  v.setBigUint64(48, BigInt(p.refcountTableOffset));
  v.setUint32(56, p.refcountTableClusters);
  v.setUint32(96, 4);
  v.setUint32(100, HEADER_LENGTH);
  // The header extension area after byte 104 is zero: an end-of-extensions marker.
  return h;
}

/** A table of big-endian u64 entries, padded to whole clusters. */
function u64Table(count: number, entry: (i: number) => bigint): Uint8Array {
  const t = new Uint8Array(clustersFor(count * 8) * CLUSTER);
  const v = new DataView(t.buffer);
  for (let i = 0; i < count; i++) v.setBigUint64(i * 8, entry(i));
  return t;
}

function l1Table(p: Qcow2Plan): Uint8Array {
  const l2At = new Map(p.l2Tables.map((l1, k) => [l1, p.l2Offset + k * CLUSTER]));
  return u64Table(p.l1Entries, (i) => (l2At.has(i) ? BigInt(l2At.get(i)!) | COPIED : 0n));
}

function refcountTable(p: Qcow2Plan): Uint8Array {
  const firstBlock = p.refcountTableOffset + p.refcountTableClusters * CLUSTER;
  return u64Table(p.refcountTableClusters * (CLUSTER / 8), (i) => (i < p.refcountBlocks ? BigInt(firstBlock + i * CLUSTER) : 0n));
}

/** Every cluster of the file is used once: refcount 1 for clusters 0..totalClusters-1. */
function refcountBlocks(p: Qcow2Plan): Uint8Array {
  const b = new Uint8Array(p.refcountBlocks * CLUSTER);
  const v = new DataView(b.buffer);
  for (let i = 0; i < p.totalClusters; i++) v.setUint16(i * 2, 1);
  return b;
}

function* l2Tables(p: Qcow2Plan): Generator<Uint8Array> {
  let d = 0;
  for (const l1 of p.l2Tables) {
    const t = new Uint8Array(CLUSTER);
    const v = new DataView(t.buffer);
    for (; d < p.dataClusters.length && Math.floor(p.dataClusters[d]! / L2_ENTRIES) === l1; d++) {
      v.setBigUint64((p.dataClusters[d]! % L2_ENTRIES) * 8, BigInt(p.dataOffset + d * CLUSTER) | COPIED);
    }
    yield t;
  }
}

/** The image as a qcow2 v3 file (64 KiB clusters, no compression); its size is known up front. */
export function qcow2Image(source: SparseSource): ContainerImage & { size: number } {
  const p = plan(source);
  return {
    size: p.totalClusters * CLUSTER,
    async *chunks() {
      yield header(p);
      yield l1Table(p);
      yield refcountTable(p);
      yield refcountBlocks(p);
      yield* l2Tables(p);
      for await (const b of blocksOf(source, CLUSTER, p.dataClusters)) yield b.data;
    },
  };
}
