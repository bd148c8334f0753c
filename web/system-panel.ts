// The toplevel-first flow: the user names a NixOS system (its toplevel, the cache holding it and
// that cache's key), the page reads it from the cache and offers the images that suit it.
import { CACHE_NIXOS_ORG_KEY } from '../core/nix/signature.ts';
import { storePathOf } from '../core/nix/store-path.ts';
import type { ToplevelView } from '../worker/build-worker.ts';
import type { ConfigJson } from './config-draft.ts';
import { h } from './dom.ts';
import { formatBytes, storeName } from './format.ts';
import { choicesFor, estimatedSize, type Choice } from './targets.ts';
import { treemapSvg } from './treemap.ts';
import type { HandEdit } from './trust.ts';

export interface SystemSource {
  toplevel: string;
  substituters: string[];
  trustedPublicKeys: string[];
}

const DEFAULT_CACHE = 'https://cache.nixos.org';

function field(id: string, label: string, value: string, hint: string, attrs: Record<string, string> = {}): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'text', id, spellcheck: 'false', autocomplete: 'off', value, 'aria-describedby': `${id}-hint`, ...attrs });
  return { input, el: h('div', { class: 'field' }, h('label', { for: id }, label), input, h('small', { class: 'hint', id: `${id}-hint` }, hint)) };
}

export class SystemPanel {
  readonly el: HTMLElement;
  private readonly toplevel = field('toplevel', 'Toplevel store path', '', 'readlink result after nix build .#nixosConfigurations.<host>.config.system.build.toplevel', {
    placeholder: '/nix/store/…-nixos-system-…',
  });
  private readonly cache = field('system-cache', 'Binary cache holding it', DEFAULT_CACHE, 'Where the system was pushed (cachix, attic, nix copy --to …).');
  private readonly key = field('system-key', 'The cache’s signing key', CACHE_NIXOS_ORG_KEY, 'name:base64, as in trusted-public-keys.');
  readonly inspectButton = h('button', { type: 'submit', id: 'inspect', class: 'primary' }, 'Inspect the system');
  private readonly report = h('div', { id: 'system-report', 'aria-live': 'polite' });
  private choices: Choice[] = [];
  private closure = { narBytes: 0, downloadBytes: 0, free: undefined as number | undefined };

  constructor(
    private readonly onInspect: (source: SystemSource) => void,
    private readonly onChoose: (config: ConfigJson, choice: Choice) => void,
    onHandEdit: (edit: HandEdit) => void,
  ) {
    this.cache.input.addEventListener('change', () => onHandEdit({ field: 'substituters', added: [this.cache.input.value.trim()] }));
    this.key.input.addEventListener('change', () => onHandEdit({ field: 'trustedPublicKeys', added: [this.key.input.value.trim()] }));
    this.el = h(
      'section',
      { class: 'panel system-panel', 'aria-labelledby': 'system-title' },
      h('h2', { id: 'system-title' }, 'Your NixOS system'),
      h(
        'form',
        { class: 'system-form', onsubmit: (e: Event) => (e.preventDefault(), this.onInspect(this.source())) },
        this.toplevel.el,
        h('div', { class: 'row' }, this.cache.el, this.key.el),
        h('div', { class: 'actions' }, this.inspectButton),
      ),
      this.report,
    );
  }

  source(): SystemSource {
    return { toplevel: this.toplevel.input.value.trim(), substituters: [this.cache.input.value.trim()], trustedPublicKeys: [this.key.input.value.trim()] };
  }

  /** The config of the chosen target, or null before one is chosen. */
  chosen(): Choice | null {
    const id = this.report.querySelector<HTMLInputElement>('input[name="target"]:checked')?.value;
    return this.choices.find((c) => c.target.id === id) ?? null;
  }

  clear(): void {
    this.choices = [];
    this.report.replaceChildren();
  }

  /** `storage`: navigator.storage.estimate()'s answer, to warn before a build that cannot fit. */
  show(view: ToplevelView, source: SystemSource, storage?: StorageEstimate): void {
    const t = view.toplevel;
    const narBytes = view.paths.reduce((n, p) => n + p.narSize, 0);
    const download = view.paths.reduce((n, p) => n + p.fileSize, 0);
    this.choices = choicesFor(source.toplevel, { substituters: source.substituters, trustedPublicKeys: source.trustedPublicKeys }, view);
    const free = storage?.quota !== undefined ? storage.quota - (storage.usage ?? 0) : undefined;
    this.closure = { narBytes, downloadBytes: download, free };
    const fact = (term: string, value: string, id: string) => [h('dt', {}, term), h('dd', { id, class: 'mono' }, value)];
    this.report.replaceChildren(
      h(
        'dl',
        { class: 'system-facts' },
        fact('NixOS', t.label ?? '(no label)', 'system-label'),
        fact('System', t.system ?? '(unknown)', 'system-double'),
        fact('Kernel', t.kernel ? storeName(storePathOf(t.kernel).storePath) : 'none', 'system-kernel'),
        fact('Closure', `${view.paths.length} store paths · ${formatBytes(download)} to download · ${formatBytes(narBytes)} unpacked`, 'system-closure'),
        free !== undefined ? fact('Browser storage', `${formatBytes(free)} free for this site`, 'system-storage') : null,
      ),
      h('div', { class: 'treemap-box' }, treemapSvg(view.paths, 720, 220)),
      h(
        'fieldset',
        { class: 'targets' },
        h('legend', {}, 'Image to build'),
        this.choices.map((c) => this.choiceEl(c)),
      ),
    );
    this.report.querySelector<HTMLInputElement>('input[name="target"]:not([disabled])')?.focus();
  }

  private choiceEl(c: Choice): HTMLElement {
    const id = `target-${c.target.id}`;
    const size = estimatedSize(c.config, this.closure);
    // The NAR cache keeps the NARs unpacked, and the image is written beside it.
    const needed = this.closure.narBytes + size;
    const tooBig = this.closure.free !== undefined && needed > this.closure.free;
    const input = h('input', {
      type: 'radio',
      name: 'target',
      id,
      value: c.target.id,
      disabled: c.unavailable !== null,
      'aria-describedby': `${id}-use`,
      onchange: () => this.onChoose(c.config, c),
    });
    return h(
      'div',
      { class: 'target', 'data-target': c.target.id, 'data-available': String(c.unavailable === null) },
      input,
      h(
        'label',
        { for: id },
        h('strong', {}, c.target.title),
        c.fileName ? h('span', { class: 'mono file-name' }, c.fileName) : null,
        c.unavailable === null ? h('span', { class: 'estimate' }, `≈ ${formatBytes(size)}`) : null,
        c.unavailable === null && tooBig ? h('span', { class: 'quota-warning', role: 'note' }, `Needs about ${formatBytes(needed)} of browser storage; ${formatBytes(this.closure.free!)} is free`) : null,
        h('small', { id: `${id}-use`, class: 'hint' }, c.unavailable ?? c.target.use),
      ),
    );
  }
}
