import { refuseForeignFrame } from './frame-guard.ts';
import { proxy, wrap, type Remote } from 'comlink';
import { ConfigError, parseConfig } from '../core/pipeline/config.ts';
import { fieldPlace } from './field-words.ts';
import type { Progress } from '../core/pipeline/progress.ts';
import { CACHE_NIXOS_ORG_KEY } from '../core/nix/signature.ts';
import type { BuildResult, BuildWorkerApi, PlanView } from '../worker/build-worker.ts';
import { tidy, type ConfigJson } from './config-draft.ts';
import { CacheLogins } from './cache-logins.ts';
import { ConfigForm } from './config-form.ts';
import { cacheOrigins, CredentialsPanel } from './credentials-panel.ts';
import { decodeConfigFragment, encodeConfigFragment } from './config-url.ts';
import { demoConfig } from './demo-config.ts';
import { $, h } from './dom.ts';
import { canSaveAs, downloadBlob, outputFile, pickFile, saveAs } from './download.ts';
import { explain, isCancel } from './error-text.ts';
import { formatBytes, formatDuration, storeName } from './format.ts';
import { expectedStages, ProgressView } from './progress-view.ts';
import { treemapSvg } from './treemap.ts';
import { isEmptyAsk, TrustRoots, type TrustAsk } from './trust.ts';
import { SystemPanel, type SystemSource } from './system-panel.ts';
import type { Choice } from './targets.ts';

refuseForeignFrame();

type State = 'idle' | 'resolving' | 'building' | 'done' | 'failed' | 'cancelled';

/** A worker that does not stop within this long after Cancel is terminated and replaced. */
const CANCEL_GRACE_MS = 5000;

const ui = {
  form: $('#form'),
  configStatus: $('#config-status'),
  resolve: $<HTMLButtonElement>('#resolve'),
  build: $<HTMLButtonElement>('#build'),
  trust: $('#trust'),
  cancel: $<HTMLButtonElement>('#cancel'),
  closure: $('#closure'),
  progress: $('#progress'),
  result: $('#result'),
  cacheUsage: $('#cache-usage'),
  clearCache: $<HTMLButtonElement>('#clear-cache'),
  importFile: $<HTMLInputElement>('#import-file'),
  importJson: $<HTMLButtonElement>('#import-json'),
  system: $('#system'),
  customImage: $<HTMLDetailsElement>('#custom-image'),
  announce: $('#announce'),
  directSave: $<HTMLInputElement>('#direct-save'),
  directSaveOption: $('#direct-save-option'),
  exportJson: $<HTMLButtonElement>('#export-json'),
  copyLink: $<HTMLButtonElement>('#copy-link'),
};

let worker: Worker;
let api: Remote<BuildWorkerApi>;
function startWorker(): void {
  worker = new Worker(new URL('../worker/build-worker.ts', import.meta.url), { type: 'module', name: 'build' });
  api = wrap<BuildWorkerApi>(worker);
}
startWorker();

let shownPlanKey: string | null = null;

const ANNOUNCED: Partial<Record<State, string>> = { resolving: 'Reading the closure from the cache…', building: 'Building the image…', cancelled: 'Cancelled.' };

function setState(s: State): void {
  document.body.dataset['state'] = s;
  const said = ANNOUNCED[s];
  if (said) ui.announce.textContent = said;
  system.inspectButton.disabled = s === 'resolving' || s === 'building';
  const busy = s === 'resolving' || s === 'building';
  ui.resolve.disabled = busy;
  ui.build.disabled = busy;
  ui.cancel.hidden = !busy;
  ui.clearCache.disabled = busy;
}

// ---- config: form, validation, URL fragment ----

function initialConfig(): { config: ConfigJson; linked: boolean; error?: unknown } {
  try {
    const linked = decodeConfigFragment(location.hash);
    if (linked !== null) return { config: linked as ConfigJson, linked: true };
  } catch (error) {
    return { config: demoConfig(), linked: false, error };
  }
  return { config: demoConfig(), linked: false };
}

function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const pageBase = () => location.href.split('#')[0]!;
const trust = new TrustRoots(localStorageOrNull(), pageBase(), {
  keys: [CACHE_NIXOS_ORG_KEY, ...(demoConfig().trustedPublicKeys ?? [])],
  substituters: ['https://cache.nixos.org', ...(demoConfig().substituters ?? [])],
});
/** Where the config came from when it was not typed here: the trust card says so. */
let arrivedFrom: string | null = null;

const initial = initialConfig();
if (initial.linked) arrivedFrom = 'the link you opened';
const logins = new CacheLogins(localStorageOrNull());
const credentials = new CredentialsPanel(logins);
const form = new ConfigForm(initial.config, () => scheduleConfigChange(), (edit) => trust.handEdit(edit), credentials.el);
ui.form.append(form.el);
const system = new SystemPanel((source) => void inspect(source), (config, choice) => choose(config, choice), (edit) => trust.handEdit(edit));
ui.system.append(system.el);
// A linked config is a custom image: the form shows it; the system flow leads otherwise.
ui.customImage.open = initial.linked && initial.config.toplevel === undefined;

/** Loads a config that did not come from the user's hands: its trust settings need consent. */
function loadFromOutside(config: ConfigJson, from: string): void {
  trust.arrived();
  arrivedFrom = from;
  form.load(config);
  showTrust();
}
let configTimer: ReturnType<typeof setTimeout> | undefined;

function currentJson(): ConfigJson {
  return tidy(form.value);
}

/** The origins of the caches the config uses (the default one when it names none). */
function substituterOrigins(): string[] {
  return cacheOrigins(currentJson().substituters ?? ['https://cache.nixos.org'], pageBase());
}

/** Validates with the CLI's parser; returns the error text, in the form's words, or null. */
function validate(): string | null {
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of document.querySelectorAll('.field-error')) el.remove();
  try {
    parseConfig(currentJson());
    return null;
  } catch (e) {
    if (!(e instanceof ConfigError)) return e instanceof Error ? e.message.replace(/^config: /, '') : String(e);
    return showAtField(e);
  }
}

/** Marks the control of the field `e` names and says what is wrong beside it; returns the sentence. */
function showAtField(e: ConfigError): string {
  const place = fieldPlace(e.field);
  const problem = e.message.slice(`config: ${e.field}: `.length);
  const control = place.id === undefined ? null : document.getElementById(place.id);
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    const note = h('small', { class: 'field-error', id: `${control.id}-error` }, problem);
    control.setAttribute('aria-errormessage', note.id);
    control.after(note);
  }
  return `${place.words}: ${problem}`;
}

function showConfigStatus(): void {
  const problem = validate();
  ui.configStatus.replaceChildren(problem === null ? h('span', { class: 'ok' }, 'Config is valid') : h('span', { class: 'problem' }, problem));
  ui.configStatus.dataset['valid'] = String(problem === null);
  // Build stays off while the config is invalid (the status says why).
  if (document.body.dataset['state'] !== 'resolving' && document.body.dataset['state'] !== 'building') ui.build.disabled = problem !== null;
  const key = JSON.stringify(currentJson());
  ui.closure.classList.toggle('stale', shownPlanKey !== null && shownPlanKey !== key);
  credentials.update(substituterOrigins());
  showTrust();
}

/** The config the "Image ready" card is for: another config makes the card stale, so it goes. */
let builtKey: string | null = null;

function scheduleConfigChange(): void {
  clearTimeout(configTimer);
  configTimer = setTimeout(() => {
    if (builtKey !== null && builtKey !== JSON.stringify(currentJson())) {
      builtKey = null;
      ui.result.replaceChildren();
    }
    history.replaceState(null, '', encodeConfigFragment(currentJson()));
    showConfigStatus();
  }, 200);
}

window.addEventListener('hashchange', () => {
  try {
    const linked = decodeConfigFragment(location.hash);
    if (linked !== null && JSON.stringify(linked) !== JSON.stringify(currentJson())) loadFromOutside(linked as ConfigJson, 'a new link (#config=) opened in this tab');
  } catch (e) {
    showError(e);
  }
});

ui.importJson.addEventListener('click', () => ui.importFile.click());
ui.importFile.addEventListener('change', async () => {
  const file = ui.importFile.files?.[0];
  ui.importFile.value = '';
  if (!file) return;
  try {
    loadFromOutside(JSON.parse(await file.text()) as ConfigJson, `the imported file ${file.name}`);
  } catch (e) {
    showError(new Error(`${file.name} is not valid JSON: ${(e as Error).message}`));
  }
});
ui.exportJson.addEventListener('click', () => {
  downloadBlob(new Blob([JSON.stringify(currentJson(), null, 2) + '\n'], { type: 'application/json' }), 'nix-imager-config.json');
});
ui.copyLink.addEventListener('click', async () => {
  const url = location.href.split('#')[0] + encodeConfigFragment(currentJson());
  history.replaceState(null, '', encodeConfigFragment(currentJson()));
  await navigator.clipboard?.writeText(url).catch(() => {});
  ui.copyLink.textContent = 'Link copied';
  setTimeout(() => (ui.copyLink.textContent = 'Copy link'), 1500);
});

// ---- trust ----

const keyName = (key: string) => key.slice(0, Math.max(0, key.indexOf(':'))) || key;

function trustItems(ask: TrustAsk): HTMLElement[] {
  return [
    ...ask.keys.map((k) => h('li', { class: 'trust-key' }, 'Signing key ', h('strong', {}, keyName(k)), ': ', h('code', { class: 'mono' }, k))),
    ...ask.substituters.map((s) => h('li', { class: 'trust-cache' }, 'Binary cache ', h('code', { class: 'mono' }, s))),
    ask.sigsOff
      ? h('li', { class: 'trust-sigs' }, h('strong', {}, 'Signatures not required'), ': store paths that no trusted key signed would go into the image unchecked.')
      : null,
  ].filter((x): x is HTMLLIElement => x !== null);
}

/** The consent card: what the current config asks the user to trust, until they trust it or edit it away. */
function showTrust(): void {
  const ask = trust.ask(currentJson());
  ui.trust.hidden = isEmptyAsk(ask);
  if (isEmptyAsk(ask)) return ui.trust.replaceChildren();
  // A redraw (the config status runs 200 ms after a change) keeps the notice a refused Build showed.
  const refused = ui.trust.querySelector<HTMLElement>('.trust-blocked')?.hidden === false;
  const consent = (build: boolean) => () => {
    trust.confirm(currentJson());
    showTrust();
    if (build) void run(true);
  };
  ui.trust.replaceChildren(
    h(
      'div',
      { class: 'card trust', role: 'alert' },
      h('h3', {}, 'Trust these settings?'),
      h(
        'p',
        {},
        `This config came from ${arrivedFrom ?? 'outside this page'} and asks this browser to trust what you have not confirmed before. `,
        'A signing key or a binary cache decides what goes into the image: trust them only if you know who runs them.',
      ),
      h('ul', { class: 'trust-list' }, trustItems(ask)),
      h('p', { class: 'trust-blocked', hidden: !refused }, 'Nothing was downloaded. Trust these settings, or change them in the form.'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'trust-build', onclick: consent(true) }, 'Trust and build'),
        h('button', { type: 'button', id: 'trust-only', onclick: consent(false) }, 'Trust these settings'),
      ),
    ),
  );
}

/** True when the config may be used as it is; otherwise points the user at the consent card. */
function trusted(json: ConfigJson): boolean {
  if (isEmptyAsk(trust.ask(json))) {
    // What the user typed and now uses is theirs: remembered for next time.
    trust.confirm(json);
    return true;
  }
  showTrust();
  ui.trust.querySelector<HTMLElement>('.trust-blocked')!.hidden = false;
  ui.trust.querySelector<HTMLElement>('#trust-build')?.focus();
  return false;
}

// ---- closure ----

function showPlan(plan: PlanView): void {
  const narBytes = plan.paths.reduce((n, p) => n + p.narSize, 0);
  const download = plan.paths.reduce((n, p) => n + p.fileSize, 0);
  const cached = plan.paths.filter((p) => p.cached);
  const toDownload = plan.paths.filter((p) => !p.cached).reduce((n, p) => n + p.fileSize, 0);
  const stat = (label: string, value: string, id: string) => h('div', { class: 'stat', id }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
  const biggest = [...plan.paths].sort((a, b) => b.narSize - a.narSize).slice(0, 5);
  ui.closure.classList.remove('stale');
  ui.closure.replaceChildren(
    h('h2', {}, 'Closure'),
    h(
      'div',
      { class: 'stats' },
      stat('store paths', String(plan.paths.length), 'stat-paths'),
      stat('download (FileSize)', formatBytes(download), 'stat-download'),
      stat('unpacked (NarSize)', formatBytes(narBytes), 'stat-unpacked'),
      stat(
        cached.length === plan.paths.length ? 'NARs cached: nothing to download' : `NARs cached · ${formatBytes(toDownload)} to download`,
        `${cached.length} of ${plan.paths.length}`,
        'stat-cached',
      ),
    ),
    h('div', { class: 'treemap-box' }, treemapSvg(plan.paths, 720, 300)),
    h(
      'ol',
      { class: 'biggest' },
      biggest.map((p) => h('li', { title: p.path }, h('span', { class: 'mono' }, storeName(p.path)), h('span', {}, formatBytes(p.narSize)))),
    ),
  );
}

// ---- running ----

let view: ProgressView | null = null;
const onProgress = proxy((p: Progress) => view?.update(p));

function showError(e: unknown): void {
  const x = explain(e, navigator.onLine);
  const card = h('div', { class: 'card error', role: 'alert', tabindex: -1 }, h('h3', {}, x.title), h('p', { class: 'mono detail' }, x.detail), h('p', {}, x.advice));
  ui.result.replaceChildren(card);
  // The button that started the run was disabled under the focus: the focus goes to what happened.
  if (document.activeElement === document.body || document.activeElement === null) card.focus();
}

function showCancelled(): void {
  ui.result.replaceChildren(h('div', { class: 'card cancelled', role: 'status' }, h('h3', {}, 'Cancelled'), h('p', {}, 'Nothing was written: the partial image was deleted, and only NARs that finished verifying were kept in the cache.')));
}

/** What the image's store paths were vouched for by, so the user sees what they relied on. */
function signersLine(r: BuildResult): HTMLElement {
  const parts = r.signers.map((s) => h('li', {}, `${s.paths} store path${s.paths === 1 ? '' : 's'} signed by `, h('strong', {}, keyName(s.key)), ' ', h('code', { class: 'mono' }, s.key)));
  if (r.unsigned > 0) parts.push(h('li', { class: 'unsigned' }, `${r.unsigned} store path${r.unsigned === 1 ? '' : 's'} unsigned: no trusted key signed ${r.unsigned === 1 ? 'it' : 'them'}, accepted because signatures were not required`));
  return h('ul', { class: 'signers', id: 'signers' }, parts);
}

/** The image went straight into the file the user picked: nothing to download. */
function showSaved(r: BuildResult): void {
  ui.result.replaceChildren(
    h(
      'div',
      { class: 'card done', role: 'status', 'data-file': r.fileName, 'data-bytes': String(r.bytes), 'data-written': 'picked-file', tabindex: -1 },
      h('h3', {}, 'Image saved'),
      h('p', {}, h('span', { class: 'mono' }, r.fileName), ` · ${formatBytes(r.bytes)} written straight into the file you picked (File System Access), with no copy in browser storage · built in ${formatDuration(r.seconds)}`),
      signersLine(r),
    ),
  );
  builtKey = JSON.stringify(currentJson());
  ui.announce.textContent = `Image saved: ${r.fileName}, ${formatBytes(r.bytes)}.`;
  ui.result.querySelector<HTMLElement>('.card')!.focus();
}

async function showDone(r: BuildResult): Promise<void> {
  if (r.outputName === null) return showSaved(r);
  const file = await outputFile(r.outputName);
  const download = h('button', { type: 'button', class: 'primary', id: 'download', onclick: () => downloadBlob(file, r.fileName) }, `Download ${r.fileName}`);
  const save = canSaveAs()
    ? h('button', {
        type: 'button',
        id: 'save-as',
        onclick: () => saveAs(file, r.fileName).catch(showError),
      }, 'Save to…')
    : null;
  ui.result.replaceChildren(
    h(
      'div',
      { class: 'card done', role: 'status', 'data-file': r.fileName, 'data-bytes': String(r.bytes) },
      h('h3', {}, 'Image ready'),
      h('p', {}, h('span', { class: 'mono' }, r.fileName), ` · ${formatBytes(r.bytes)} · ${r.storePaths} store paths, ${formatBytes(r.narBytes)} unpacked · built in ${formatDuration(r.seconds)} in browser storage (OPFS), then downloaded`),
      signersLine(r),
      h('div', { class: 'actions' }, download, save),
    ),
  );
  builtKey = JSON.stringify(currentJson());
  ui.announce.textContent = `Image ready: ${r.fileName}, ${formatBytes(r.bytes)}.`;
  download.focus();
  downloadBlob(file, r.fileName);
}

/** Runs a worker call so that Cancel always ends it: politely first, by terminating the worker if need be. */
async function cancellable<T>(call: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const forced = new Promise<never>((_, reject) => {
    ui.cancel.onclick = () => {
      ui.cancel.disabled = true;
      void api.cancel();
      timer = setTimeout(() => {
        worker.terminate();
        startWorker();
        reject(new DOMException('the build was cancelled', 'AbortError'));
      }, CANCEL_GRACE_MS);
    };
  });
  ui.cancel.disabled = false;
  try {
    return await Promise.race([call(), forced]);
  } finally {
    clearTimeout(timer);
    ui.cancel.onclick = null;
  }
}

async function run(build: boolean): Promise<void> {
  const json = currentJson();
  const problem = validate();
  if (problem !== null) {
    showError(Object.assign(new Error(problem), { name: 'ConfigError' }));
    return;
  }
  if (!trusted(json)) return;
  // Asked first, while the click still counts as the user's (the picker needs that).
  const target = build && ui.directSave.checked ? await pickFile(parseConfig(json).fileName) : undefined;
  if (target === null) return;
  // Images are large: ask that the NAR cache and the output are not evicted under storage pressure.
  if (build) void navigator.storage?.persist?.().catch(() => false);
  const base = pageBase();
  view = new ProgressView(build ? expectedStages(parseConfig(json).compression) : ['narinfo']);
  ui.progress.replaceChildren(view.el);
  ui.result.replaceChildren();
  builtKey = null;
  ui.closure.querySelector('.empty')?.replaceChildren('Resolving the closure…');
  setState('resolving');
  try {
    const plan = await cancellable(() => api.plan(json, base, logins.for(substituterOrigins()), onProgress));
    shownPlanKey = JSON.stringify(json);
    showPlan(plan);
    // A closure resolved before (by "Resolve closure") is not looked up again.
    view.update({ stage: 'narinfo', done: plan.paths.length, total: plan.paths.length });
    if (!build) {
      view.finish('done');
      setState('idle');
      return;
    }
    setState('building');
    const result = await cancellable(() => api.build(json, base, form.files, logins.for(substituterOrigins()), onProgress, target));
    view.finish('done');
    setState('done');
    showPlan({ ...plan, paths: plan.paths.map((p) => ({ ...p, cached: true })) });
    await showDone(result);
  } catch (e) {
    if (isCancel(e)) {
      view.finish('cancelled');
      setState('cancelled');
      showCancelled();
    } else {
      view.finish('failed');
      setState('failed');
      showError(e);
    }
  } finally {
    void refreshCacheUsage();
  }
}

ui.resolve.addEventListener('click', () => void run(false));

// ---- the toplevel-first flow ----

/** Reads the named system from its cache and offers the images that suit it. */
async function inspect(source: SystemSource): Promise<void> {
  if (source.toplevel === '') {
    showError(Object.assign(new Error('config: Toplevel store path: enter the /nix/store/…-nixos-system-… path of the system'), { name: 'ConfigError', code: 'config' }));
    document.getElementById('toplevel')?.focus();
    return;
  }
  const json = { format: 'tarball', ...source } as ConfigJson;
  try {
    parseConfig(json);
  } catch (e) {
    showError(e);
    return;
  }
  if (!trusted(json)) return;
  system.clear();
  view = new ProgressView(['narinfo']);
  ui.progress.replaceChildren(view.el);
  ui.result.replaceChildren();
  setState('resolving');
  try {
    const report = await cancellable(() => api.inspect(json, pageBase(), logins.for(cacheOrigins(source.substituters, pageBase())), onProgress));
    view.finish('done');
    setState('idle');
    system.show(report, source, await navigator.storage?.estimate?.().catch(() => undefined));
    ui.announce.textContent = `${report.toplevel.label ?? 'The system'}: ${report.paths.length} store paths. Choose the image to build.`;
  } catch (e) {
    view.finish(isCancel(e) ? 'cancelled' : 'failed');
    setState(isCancel(e) ? 'cancelled' : 'failed');
    if (isCancel(e)) showCancelled();
    else showError(e);
  }
}

/** A target chosen: the form holds its config (under Custom image) and Build builds it. */
function choose(config: ConfigJson, choice: Choice): void {
  form.load(config);
  ui.build.textContent = `Build ${choice.fileName ?? 'image'}`;
}
ui.build.addEventListener('click', () => void run(true));

// ---- NAR cache ----

async function refreshCacheUsage(): Promise<void> {
  try {
    const u = await api.cacheUsage();
    ui.cacheUsage.textContent = `NAR cache: ${u.entries} ${u.entries === 1 ? 'entry' : 'entries'}, ${formatBytes(u.bytes)}`;
    ui.cacheUsage.dataset['entries'] = String(u.entries);
  } catch (e) {
    ui.cacheUsage.textContent = `NAR cache unavailable: ${(e as Error).message}`;
  }
}

ui.clearCache.addEventListener('click', async () => {
  try {
    await api.clearCache();
    shownPlanKey = null;
  } catch (e) {
    showError(e);
  }
  await refreshCacheUsage();
});

// ---- start ----

setState('idle');
ui.directSaveOption.hidden = !canSaveAs();
showConfigStatus();
if (!location.hash) history.replaceState(null, '', encodeConfigFragment(currentJson()));
if (initial.error) showError(initial.error);
void refreshCacheUsage();
if ('serviceWorker' in navigator) navigator.serviceWorker.register('./sw.js').catch(() => {});
