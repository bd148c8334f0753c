import type { Progress, Stage } from '../core/pipeline/progress.ts';
import { h } from './dom.ts';
import { formatBytes, formatDuration } from './format.ts';

const LABEL: Record<Stage, string> = {
  narinfo: 'Resolve closure',
  download: 'Download NARs',
  verify: 'Verify NARs',
  squashfs: 'Write squashfs',
  write: 'Write image',
  // After compression (if any): the bytes of the output file.
  compress: 'Output file',
};
const ORDER: Stage[] = ['narinfo', 'download', 'verify', 'squashfs', 'write', 'compress'];

interface Row {
  el: HTMLElement;
  bar: HTMLElement;
  amount: HTMLElement;
  speed: HTMLElement;
  samples: { t: number; done: number }[];
  last?: Progress;
}

/** Rate over the last few seconds (a whole-run average hides stalls and bursts). */
const WINDOW_MS = 3000;

/** One bar per stage with bytes, rate and time left; stages appear in pipeline order. */
export class ProgressView {
  readonly el = h('div', { class: 'stages' });
  private rows = new Map<Stage, Row>();

  constructor(expected: Stage[]) {
    for (const s of expected) this.row(s);
  }

  private row(stage: Stage): Row {
    let row = this.rows.get(stage);
    if (row) return row;
    const bar = h('div', { class: 'bar-fill' });
    const amount = h('span', { class: 'amount' }, 'waiting');
    const speed = h('span', { class: 'speed' });
    const el = h('div', { class: 'stage', 'data-stage': stage, 'data-state': 'waiting' }, h('span', { class: 'stage-name' }, LABEL[stage]), h('div', { class: 'bar', role: 'progressbar', 'aria-label': LABEL[stage], 'aria-valuemin': 0, 'aria-valuemax': 100 }, bar), amount, speed);
    row = { el, bar, amount, speed, samples: [] };
    this.rows.set(stage, row);
    const next = ORDER.slice(ORDER.indexOf(stage) + 1).map((s) => this.rows.get(s)?.el).find((e) => e !== undefined);
    this.el.insertBefore(el, next ?? null);
    return row;
  }

  update(p: Progress): void {
    const row = this.row(p.stage);
    const now = performance.now();
    row.last = p;
    row.samples.push({ t: now, done: p.done });
    while (row.samples.length > 2 && now - row.samples[0]!.t > WINDOW_MS) row.samples.shift();
    const unit = p.stage === 'narinfo' ? (n: number) => `${n}` : formatBytes;
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : null;
    row.el.dataset['state'] = fraction === 1 ? 'done' : 'running';
    row.bar.style.width = fraction === null ? '100%' : `${(fraction * 100).toFixed(1)}%`;
    row.bar.classList.toggle('indeterminate', fraction === null);
    if (fraction === null) row.bar.parentElement!.removeAttribute('aria-valuenow');
    else row.bar.parentElement!.setAttribute('aria-valuenow', (fraction * 100).toFixed(0));
    row.amount.textContent = p.total > 0 ? `${unit(p.done)} / ${unit(p.total)}${p.stage === 'narinfo' ? ' paths' : ''}` : unit(p.done);
    const first = row.samples[0]!;
    const secs = (now - first.t) / 1000;
    const rate = secs > 0.2 ? (p.done - first.done) / secs : 0;
    if (fraction === 1 || rate <= 0) row.speed.textContent = '';
    else {
      const eta = p.total > 0 ? ` · ${formatDuration((p.total - p.done) / rate)} left` : '';
      row.speed.textContent = p.stage === 'narinfo' ? `${rate.toFixed(0)}/s${eta}` : `${formatBytes(rate)}/s${eta}`;
    }
  }

  /** The build is over: stages that never ran had nothing to do (e.g. every NAR was cached). */
  finish(outcome: 'done' | 'failed' | 'cancelled'): void {
    for (const row of this.rows.values()) {
      row.speed.textContent = '';
      if (row.last === undefined) {
        row.el.dataset['state'] = outcome === 'done' ? 'skipped' : 'waiting';
        row.amount.textContent = outcome === 'done' ? 'nothing to do' : '—';
      } else if (outcome === 'done') {
        row.el.dataset['state'] = 'done';
        row.bar.style.width = '100%';
        row.bar.classList.remove('indeterminate');
      } else if (row.el.dataset['state'] === 'running') {
        row.el.dataset['state'] = outcome;
      }
    }
  }
}

export function expectedStages(compression: string): Stage[] {
  const stages: Stage[] = ['narinfo', 'download', 'verify', 'write'];
  if (compression !== 'none') stages.push('compress');
  return stages;
}
