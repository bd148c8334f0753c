import type { Progress, Stage } from '../core/pipeline/progress.ts';
import { formatBytes } from '../core/io/format-bytes.ts';

const LABEL: Record<Stage, string> = {
  narinfo: 'narinfo',
  download: 'download',
  verify: 'verify',
  squashfs: 'squashfs',
  write: 'write',
  compress: 'out',
};

/** One status line on a terminal, redrawn at most every 100 ms. */
export function progressLine(stream: NodeJS.WriteStream): { update(p: Progress): void; clear(): void } {
  const latest = new Map<Stage, Progress>();
  const started = Date.now();
  let drawn = 0;
  let visible = false;
  return {
    update(p) {
      latest.set(p.stage, p);
      const now = Date.now();
      if (now - drawn < 100) return;
      drawn = now;
      const secs = Math.max((now - started) / 1000, 0.001);
      const parts = [...latest.values()].map((q) => {
        if (q.stage === 'narinfo') return `narinfo ${q.done}/${q.total}`;
        const total = q.total > 0 ? `/${formatBytes(q.total)}` : '';
        return `${LABEL[q.stage]} ${formatBytes(q.done)}${total}`;
      });
      const out = latest.get('compress') ?? latest.get('write');
      const rate = out ? ` · ${formatBytes(out.done / secs)}/s` : '';
      const line = `${parts.join(' · ')}${rate}`.slice(0, (stream.columns || 100) - 1);
      stream.write(`\r\x1b[K${line}`);
      visible = true;
    },
    clear() {
      if (visible) stream.write('\r\x1b[K');
      visible = false;
    },
  };
}
