export { formatBytes } from '../core/io/format-bytes.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A store path's name without /nix/store/ and the hash: what people recognise. */
export function storeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.length > 33 && base[32] === '-' ? base.slice(33) : base;
}
