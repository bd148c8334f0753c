import { localName } from '../worker/local-files.ts';
import { CONFIG_FIELDS as F, fieldHint, ISO_FIELDS as I } from '../core/pipeline/config-schema.ts';
import { contentKind, type ConfigJson, type ContentJson, type ContentKind, type IsoJson } from './config-draft.ts';
import { h } from './dom.ts';
import { formatBytes } from './format.ts';
import type { HandEdit } from './trust.ts';

type Listener = () => void;

let fieldIds = 0;

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f${++fieldIds}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { class: 'hint' }, hint) : null);
}

function text(value: string | undefined, set: (v: string | undefined) => void, attrs: Record<string, string> = {}): HTMLInputElement {
  return h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off', ...attrs, value: value ?? '', oninput: (e: Event) => set((e.target as HTMLInputElement).value || undefined) });
}

function num(value: number | undefined, set: (v: number | undefined) => void, attrs: Record<string, string> = {}): HTMLInputElement {
  return h('input', {
    type: 'number',
    ...attrs,
    value: value ?? '',
    oninput: (e: Event) => {
      const raw = (e.target as HTMLInputElement).value;
      set(raw === '' ? undefined : Number(raw));
    },
  });
}

function lines(value: string[] | undefined, set: (v: string[] | undefined) => void, attrs: Record<string, string> = {}): HTMLTextAreaElement {
  return h('textarea', {
    spellcheck: 'false',
    rows: Math.max(2, (value?.length ?? 0) + 1),
    ...attrs,
    value: (value ?? []).join('\n'),
    oninput: (e: Event) => {
      const v = (e.target as HTMLTextAreaElement).value.split('\n').map((l) => l.trim()).filter((l) => l !== '');
      set(v.length > 0 ? v : undefined);
    },
  });
}

function select<T extends string>(value: T | undefined, options: [T | '', string][], set: (v: T | undefined) => void): HTMLSelectElement {
  const el = h('select', { onchange: (e: Event) => set(((e.target as HTMLSelectElement).value || undefined) as T | undefined) }, options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value ?? '';
  return el;
}

function check(label: string, value: boolean | undefined, fallback: boolean, set: (v: boolean) => void): HTMLElement {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: value ?? fallback, onchange: (e: Event) => set((e.target as HTMLInputElement).checked) }), label);
}

function removeButton(what: string, onclick: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: 'icon-button', title: `Remove this ${what}`, 'aria-label': `Remove this ${what}`, onclick }, '×');
}

/**
 * The config form. It edits a ConfigJson in place (the same JSON the CLI reads); typing only
 * reports a change, while adding/removing rows or switching the format redraws the form.
 */
export class ConfigForm {
  readonly el = h('form', { class: 'config-form', onsubmit: (e: Event) => e.preventDefault() });
  /** Files dropped into the page, by name: what a "file" content refers to. */
  readonly files = new Map<string, File>();
  private config: ConfigJson;

  constructor(
    initial: ConfigJson,
    private readonly onChange: Listener,
    /** Edits of the trust fields (caches, keys, requireSigs) typed by the user, not loaded from elsewhere. */
    private readonly onHandEdit: (edit: HandEdit) => void = () => {},
    /** Shown at the end of the binary caches section (the page's credentials, which are not config). */
    private readonly cacheExtras: HTMLElement | null = null,
  ) {
    this.config = initial;
    this.render();
  }

  get value(): ConfigJson {
    return this.config;
  }

  load(config: ConfigJson): void {
    this.config = config;
    this.render();
    this.onChange();
  }

  private changed = (redraw = false) => {
    if (redraw) this.render();
    this.onChange();
  };

  private render(): void {
    const c = this.config;
    const focused = document.activeElement?.id;
    this.el.replaceChildren(this.imageSection(c), this.storeSection(c), this.contentsSection(c), c.format === 'iso' ? this.isoSection(c) : '', this.cacheSection(c), this.advancedSection(c));
    if (focused) document.getElementById(focused)?.focus();
  }

  private imageSection(c: ConfigJson): HTMLElement {
    const formats: [ConfigJson['format'], string, string][] = [
      ['tarball', 'System tarball', 'make-system-tarball'],
      ['iso', 'ISO image', 'iso-image'],
      ['squashfs', 'Squashfs store', 'make-squashfs'],
      ['netboot', 'Netboot', 'netboot'],
    ];
    const defaultCompression = c.format === 'tarball' ? 'xz' : 'none';
    return h(
      'fieldset',
      { class: 'section' },
      h('legend', {}, 'Image'),
      h(
        'div',
        { class: 'segmented', role: 'radiogroup', 'aria-label': 'Image format' },
        formats.map(([value, label, nix]) =>
          h(
            'label',
            { class: 'segment', title: `like nixpkgs ${nix}` },
            h('input', {
              type: 'radio',
              name: 'format',
              // Stable ids: the redraw after a change puts the focus back by id.
              id: `format-${value}`,
              value,
              checked: c.format === value,
              onchange: () => {
                c.format = value;
                if (value !== 'iso') delete c.iso;
                if (value !== 'iso' && value !== 'netboot') delete c.toplevel;
                else c.iso ??= {};
                this.changed(true);
              },
            }),
            h('span', {}, label),
          ),
        ),
      ),
      h(
        'div',
        { class: 'row' },
        field(
          'Compression',
          Object.assign(
            select(c.compression, [['', `default (${defaultCompression})`], ['none', 'none'], ['xz', 'xz'], ['zstd', 'zstd'], ['gzip', 'gzip']], (v) => {
              c.compression = v;
              this.changed(true);
            }),
            { id: 'compression' },
          ),
        ),
        (c.compression ?? defaultCompression) === 'xz' ? field('xz preset', num(c.xzPreset, (v) => ((c.xzPreset = v), this.changed()), fieldHint(F.xzPreset))) : null,
        field('File name', text(c.fileName, (v) => ((c.fileName = v), this.changed()), { placeholder: 'default', id: 'file-name' }), 'without the compression extension'),
      ),
      c.format === 'iso' || c.format === 'netboot'
        ? h(
            'div',
            { class: 'row' },
            field(
              'NixOS toplevel',
              text(c.toplevel, (v) => ((c.toplevel = v), this.changed()), { placeholder: '/nix/store/…-nixos-system-…', class: 'mono wide', id: 'toplevel' }),
              c.format === 'iso' ? 'a live ISO from the system alone (boot menus, squashfs store)' : 'required: bzImage, initrd with the store, netboot.ipxe',
            ),
          )
        : null,
    );
  }

  private storeSection(c: ConfigJson): HTMLElement {
    const items = (c.storeContents ??= []);
    return h(
      'fieldset',
      { class: 'section' },
      h('legend', {}, 'Store contents'),
      h('p', { class: 'section-note' }, 'Their closure goes under /nix/store, with /nix-path-registration; a symlink points at each.'),
      items.map((s, i) =>
        h(
          'div',
          { class: 'row item', 'data-item': `store-${i}` },
          field('Store path', text(s.object, (v) => ((s.object = v ?? ''), this.changed()), { placeholder: '/nix/store/…', class: 'mono wide', id: `store-${i}-object` })),
          field('Symlink', text(s.symlink === 'none' ? undefined : s.symlink, (v) => ((s.symlink = v ?? 'none'), this.changed()), { placeholder: 'none', class: 'mono', id: `store-${i}-symlink` })),
          removeButton('store path', () => (items.splice(i, 1), this.changed(true))),
        ),
      ),
      h('button', { type: 'button', class: 'add', onclick: () => (items.push({ object: '', symlink: 'none' }), this.changed(true)) }, '+ Add store path'),
    );
  }

  private contentsSection(c: ConfigJson): HTMLElement {
    const items = (c.contents ??= []);
    const picker = h('input', { type: 'file', multiple: true, hidden: true, onchange: (e: Event) => this.addFiles([...((e.target as HTMLInputElement).files ?? [])]) });
    const folderPicker = h('input', { type: 'file', id: 'folder-picker', webkitdirectory: true, hidden: true, onchange: (e: Event) => this.addFiles([...((e.target as HTMLInputElement).files ?? [])]) });
    const zone = h(
      'div',
      { class: 'drop-zone', id: 'drop-zone' },
      'Drop files or folders here to put them in the image, or ',
      h('button', { type: 'button', class: 'link', onclick: () => picker.click() }, 'choose files'),
      ' or ',
      h('button', { type: 'button', class: 'link', id: 'choose-folder', onclick: () => folderPicker.click() }, 'a folder'),
      picker,
    );
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const entries = [...(e.dataTransfer?.items ?? [])].map((i) => i.webkitGetAsEntry()).filter((x): x is FileSystemEntry => x !== null);
      void droppedEntries(entries).then((files) => this.addFiles(files));
    });
    return h(
      'fieldset',
      { class: 'section' },
      h('legend', {}, 'Contents'),
      h('p', { class: 'section-note' }, 'Files copied into the image: from a store path, typed here, or dropped from your computer.'),
      items.map((item, i) => this.contentRow(items, item, i)),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'add', onclick: () => (items.push({ source: '', target: '' }), this.changed(true)) }, '+ Store file'),
        h('button', { type: 'button', class: 'add', onclick: () => (items.push({ text: '', target: '' }), this.changed(true)) }, '+ Text file'),
      ),
      zone,
      folderPicker,
    );
  }

  private contentRow(items: ContentJson[], item: ContentJson, i: number): HTMLElement {
    const kind = contentKind(item);
    const kindSelect = select<ContentKind>(kind, [['store', 'Store path'], ['text', 'Text'], ['file', 'Local file']], (k) => {
      items[i] = k === 'text' ? { text: '', target: item.target } : { source: k === 'store' ? '/nix/store/' : './', target: item.target };
      this.changed(true);
    });
    let source: HTMLElement;
    if ('text' in item) {
      source = field('Text', h('textarea', { rows: 3, spellcheck: 'false', class: 'mono', id: `content-${i}-text`, value: item.text, oninput: (e: Event) => ((item.text = (e.target as HTMLTextAreaElement).value), this.changed()) }));
    } else if (kind === 'file') {
      const name = localName(item.source);
      const file = this.files.get(name);
      const inFolder = file ? [] : [...this.files].filter(([p]) => p.startsWith(`${name}/`)).map(([, f]) => f);
      const ready = file !== undefined || inFolder.length > 0;
      const what = file ? formatBytes(file.size) : `folder: ${inFolder.length} files, ${formatBytes(inFolder.reduce((n, f) => n + f.size, 0))}`;
      source = h(
        'div',
        { class: 'field' },
        h('label', {}, file || !ready ? 'Local file' : 'Local folder'),
        h('div', { class: `file-chip ${ready ? 'ready' : 'missing'}` }, h('span', { class: 'mono' }, name || '(no name)'), h('span', {}, ready ? what : 'not dropped yet: drop it below')),
      );
    } else {
      source = field('Source', text(item.source, (v) => ((item.source = v ?? ''), this.changed()), { placeholder: '/nix/store/…/etc/file', class: 'mono wide', id: `content-${i}-source` }));
    }
    return h(
      'div',
      { class: 'row item', 'data-item': `content-${i}` },
      field('From', kindSelect),
      source,
      field('Target', text(item.target, (v) => ((item.target = v ?? ''), this.changed()), { placeholder: '/etc/…', class: 'mono', id: `content-${i}-target` })),
      removeButton('content', () => (items.splice(i, 1), this.changed(true))),
    );
  }

  /**
   * Dropped files become "local" contents named after the file, a dropped folder one content with its
   * tree (its files kept as "folder/sub/file"); their bytes stay in the page until a build.
   */
  addFiles(files: File[]): void {
    const items = (this.config.contents ??= []);
    for (const f of files) {
      const path = f.webkitRelativePath || f.name;
      this.files.set(path, f);
      const top = path.split('/')[0]!;
      if (!items.some((c) => 'source' in c && localName(c.source) === top)) items.push({ source: `./${top}`, target: `/${top}` });
    }
    this.changed(true);
  }

  private isoSection(c: ConfigJson): HTMLElement {
    const iso: IsoJson = (c.iso ??= {});
    const set = <K extends keyof IsoJson>(k: K, redraw = false) => (v: IsoJson[K] | undefined) => {
      if (v === undefined) delete iso[k];
      else iso[k] = v;
      this.changed(redraw);
    };
    return h(
      'fieldset',
      { class: 'section' },
      h('legend', {}, 'ISO'),
      h(
        'div',
        { class: 'row' },
        field('ISO name', text(iso.isoName, set('isoName'), { placeholder: 'nixos-x86_64-linux.iso' })),
        field('Volume ID', text(iso.volumeID, set('volumeID'), { placeholder: 'NIXOS_ISO' })),
        field('Application ID', text(iso.appID, set('appID'), fieldHint(I.appID))),
        field('Publisher', text(iso.publisher, set('publisher'), fieldHint(I.publisher))),
      ),
      field('Squashfs contents', lines(iso.squashfsContents, set('squashfsContents'), { class: 'mono', placeholder: '/nix/store/… (one per line)' }), 'their closure goes into /nix-store.squashfs'),
      h(
        'div',
        { class: 'row' },
        field('Squashfs compression', select(iso.squashfsCompression as 'zstd' | 'xz' | 'gzip' | undefined, [['', 'default'], ['zstd', 'zstd'], ['xz', 'xz'], ['gzip', 'gzip']], set('squashfsCompression'))),
      ),
      h(
        'div',
        { class: 'row checks' },
        check('BIOS bootable (El Torito)', iso.bootable, false, set('bootable', true)),
        iso.bootable ? field('Boot image', text(iso.bootImage, set('bootImage'), { ...fieldHint(I.bootImage), class: 'mono' })) : null,
      ),
      h('div', { class: 'row checks' }, check('EFI bootable', iso.efiBootable, false, set('efiBootable', true)), iso.efiBootable ? field('EFI image', text(iso.efiBootImage, set('efiBootImage'), { ...fieldHint(I.efiBootImage), class: 'mono' })) : null),
      h(
        'div',
        { class: 'row checks' },
        check('USB bootable (isohybrid)', iso.usbBootable, false, set('usbBootable', true)),
        iso.usbBootable ? field('MBR image', text(iso.isohybridMbrImage, set('isohybridMbrImage'), { placeholder: '/nix/store/…-syslinux/share/syslinux/isohdpfx.bin', class: 'mono wide' })) : null,
      ),
    );
  }

  private cacheSection(c: ConfigJson): HTMLElement {
    return h(
      'fieldset',
      { class: 'section' },
      h('legend', {}, 'Binary caches'),
      field('Substituters', lines(c.substituters, this.typedList(c, 'substituters'), { class: 'mono', placeholder: 'https://cache.nixos.org', id: 'substituters' }), 'tried in order; one URL per line, relative URLs are relative to this page'),
      field('Trusted public keys', lines(c.trustedPublicKeys, this.typedList(c, 'trustedPublicKeys'), { class: 'mono', placeholder: 'cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=', id: 'trusted-keys' })),
      check('Require signatures (refuse store paths not signed by a trusted key)', c.requireSigs, true, (v) => {
        c.requireSigs = v;
        this.onHandEdit({ field: 'requireSigs', value: v });
        this.changed();
      }),
      this.cacheExtras,
    );
  }

  /** A setter for a trust list that reports the lines the user added. */
  private typedList(c: ConfigJson, field: 'substituters' | 'trustedPublicKeys'): (v: string[] | undefined) => void {
    return (v) => {
      const before = new Set(c[field] ?? []);
      c[field] = v;
      this.onHandEdit({ field, added: (v ?? []).filter((x) => !before.has(x)) });
      this.changed();
    };
  }

  private advancedSection(c: ConfigJson): HTMLElement {
    return h(
      'details',
      { class: 'section advanced' },
      h('summary', {}, 'Advanced'),
      h(
        'div',
        { class: 'row' },
        field('Compression workers', num(c.threads, (v) => ((c.threads = v), this.changed()), { ...fieldHint(F.threads), placeholder: '0 = one per core' })),
        field('xz block size (bytes)', num(c.xzBlockSize, (v) => ((c.xzBlockSize = v), this.changed()), fieldHint(F.xzBlockSize))),
        field('SOURCE_DATE_EPOCH', num(c.sourceDateEpoch, (v) => ((c.sourceDateEpoch = v), this.changed()), fieldHint(F.sourceDateEpoch))),
      ),
      h(
        'div',
        { class: 'row' },
        field('Squashfs compression', select(c.squashfsCompression as 'zstd' | 'xz' | 'gzip' | undefined, [['', 'default (zstd)'], ['zstd', 'zstd'], ['xz', 'xz'], ['gzip', 'gzip']], (v) => ((c.squashfsCompression = v), this.changed()))),
        field('Squashfs block size', num(c.squashfsBlockSize, (v) => ((c.squashfsBlockSize = v), this.changed()), fieldHint(F.squashfsBlockSize))),
        field('System', text(c.system, (v) => ((c.system = v), this.changed()), fieldHint(F.system))),
      ),
    );
  }
}

/** The files under dropped entries, each with its path from the drop ("folder/sub/file") as webkitRelativePath. */
async function droppedEntries(entries: FileSystemEntry[], under = ''): Promise<File[]> {
  const out: File[] = [];
  for (const entry of entries) {
    const path = `${under}${entry.name}`;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push(under === '' ? file : withPath(file, path));
    } else if (entry.isDirectory) {
      out.push(...(await droppedEntries(await allEntries(entry as FileSystemDirectoryEntry), `${path}/`)));
    }
  }
  return out;
}

/** A directory reader answers in batches until an empty one. */
async function allEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

const withPath = (file: File, path: string): File => Object.defineProperty(file, 'webkitRelativePath', { value: path });
