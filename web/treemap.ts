import { svg } from './dom.ts';
import { formatBytes, storeName } from './format.ts';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Tile<T> extends Rect {
  item: T;
}

/** The worst aspect ratio of a row of areas laid along a side of length `side`. */
function worst(row: number[], side: number): number {
  const sum = row.reduce((a, b) => a + b, 0);
  let max = 0;
  for (const r of row) max = Math.max(max, (side * side * r) / (sum * sum), (sum * sum) / (side * side * r));
  return max;
}

/**
 * Squarified treemap (Bruls, Huizing, van Wijk): rows are filled along the shorter side of what is
 * left while adding a tile does not worsen the row's worst aspect ratio. Items of value 0 get no tile.
 */
export function squarify<T>(items: T[], valueOf: (item: T) => number, bounds: Rect): Tile<T>[] {
  const sorted = items.filter((i) => valueOf(i) > 0).sort((a, b) => valueOf(b) - valueOf(a));
  const total = sorted.reduce((n, i) => n + valueOf(i), 0);
  if (total === 0) return [];
  const scale = (bounds.w * bounds.h) / total;
  const areas = sorted.map((i) => valueOf(i) * scale);
  const out: Tile<T>[] = [];
  let { x, y, w, h } = bounds;
  let i = 0;
  while (i < sorted.length) {
    const side = Math.min(w, h);
    const row = [areas[i]!];
    while (i + row.length < sorted.length && worst([...row, areas[i + row.length]!], side) <= worst(row, side)) row.push(areas[i + row.length]!);
    const thickness = row.reduce((a, b) => a + b, 0) / side;
    let along = 0;
    for (const area of row) {
      const len = area / thickness;
      out.push(w >= h ? { x, y: y + along, w: thickness, h: len, item: sorted[i]! } : { x: x + along, y, w: len, h: thickness, item: sorted[i]! });
      along += len;
      i++;
    }
    if (w >= h) {
      x += thickness;
      w -= thickness;
    } else {
      y += thickness;
      h -= thickness;
    }
  }
  return out;
}

export interface TreemapPath {
  path: string;
  narSize: number;
  cached: boolean;
  inSquashfs: boolean;
}

function hue(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return 185 + ((h >>> 0) % 70);
}

function fit(text: string, width: number, charWidth: number): string | null {
  const max = Math.floor((width - 8) / charWidth);
  if (max < 3) return null;
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** The closure by NarSize as an SVG treemap; each tile's title holds the full store path. */
export function treemapSvg(paths: TreemapPath[], width: number, height: number): SVGSVGElement {
  const tiles = squarify(paths, (p) => p.narSize, { x: 0, y: 0, w: width, h: height });
  const total = paths.reduce((n, p) => n + p.narSize, 0);
  return svg(
    'svg',
    { class: 'treemap', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Closure of ${paths.length} store paths by unpacked size` },
    tiles.map((t) => {
      const name = storeName(t.item.path);
      const share = ((100 * t.item.narSize) / total).toFixed(1);
      const label = t.h >= 34 ? fit(name, t.w, 7) : null;
      const size = t.h >= 34 ? fit(`${formatBytes(t.item.narSize)} · ${share}%`, t.w, 6.2) : null;
      const light = t.item.inSquashfs ? 74 : 62;
      return svg(
        'g',
        { class: 'tile', 'data-path': t.item.path },
        svg('title', {}, `${t.item.path}\n${formatBytes(t.item.narSize)} unpacked (${share}% of the closure)${t.item.inSquashfs ? '\nin /nix-store.squashfs' : ''}${t.item.cached ? '\nalready in this browser’s cache' : ''}`),
        svg('rect', { x: t.x, y: t.y, width: Math.max(0, t.w), height: Math.max(0, t.h), fill: `hsl(${hue(name)} 42% ${light}%)` }),
        label && svg('text', { x: t.x + 5, y: t.y + 16, class: 'tile-name' }, label),
        size && svg('text', { x: t.x + 5, y: t.y + 30, class: 'tile-size' }, size),
      );
    }),
  );
}
