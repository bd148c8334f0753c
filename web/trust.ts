// Trust roots are the user's, never a link's: keys and caches the user confirmed in this browser are
// remembered; a config from a link, a file or a hash change that adds others (or turns signature
// checks off) waits for the user's consent. Typing into the form is the user's own choice.
import type { ConfigJson } from './config-draft.ts';

/** What a config asks the user to trust beyond what they already do. */
export interface TrustAsk {
  keys: string[];
  substituters: string[];
  /** It turns requireSigs off. */
  sigsOff: boolean;
}

/** A change the user made with their own hands in the form's trust fields. */
export type HandEdit = { field: 'substituters' | 'trustedPublicKeys'; added: string[] } | { field: 'requireSigs'; value: boolean };

const STORAGE_KEY = 'nix-imager-trust';

interface Remembered {
  keys: string[];
  substituters: string[];
}

export function isEmptyAsk(ask: TrustAsk): boolean {
  return ask.keys.length === 0 && ask.substituters.length === 0 && !ask.sigsOff;
}

export class TrustRoots {
  private readonly keys: Set<string>;
  private readonly caches: Set<string>;
  /** Typed by hand in this session: trusted, remembered once used. */
  private readonly typedKeys = new Set<string>();
  private readonly typedCaches = new Set<string>();
  /** The user turned requireSigs off (by hand or by consent) since the config last arrived from outside. */
  private sigsOffChosen = false;

  constructor(
    private readonly storage: Storage | null,
    /** The page URL relative substituters are resolved against. */
    private readonly base: string,
    initial: Remembered,
  ) {
    const saved = this.load();
    this.keys = new Set([...initial.keys, ...saved.keys].map((k) => k.trim()));
    this.caches = new Set([...initial.substituters, ...saved.substituters].map((s) => this.cacheId(s)));
  }

  /** What `config` needs the user's consent for; a list it leaves out means the defaults, which are trusted. */
  ask(config: ConfigJson): TrustAsk {
    const keys = unique(config.trustedPublicKeys ?? []).filter((k) => !this.keys.has(k.trim()) && !this.typedKeys.has(k.trim()));
    const substituters = unique(config.substituters ?? []).filter((s) => !this.caches.has(this.cacheId(s)) && !this.typedCaches.has(this.cacheId(s)));
    return { keys, substituters, sigsOff: config.requireSigs === false && !this.sigsOffChosen };
  }

  /** A config came from a link, a file or a hash change: its requireSigs is not the user's choice. */
  arrived(): void {
    this.sigsOffChosen = false;
  }

  handEdit(edit: HandEdit): void {
    if (edit.field === 'requireSigs') this.sigsOffChosen = !edit.value;
    else if (edit.field === 'trustedPublicKeys') edit.added.forEach((k) => this.typedKeys.add(k.trim()));
    else edit.added.forEach((s) => this.typedCaches.add(this.cacheId(s)));
  }

  /**
   * The user trusts `config`'s keys and caches (consent, or a build of what they typed): remembered in
   * this browser. requireSigs off holds for this session only, until a config arrives from outside.
   */
  confirm(config: ConfigJson): void {
    for (const k of config.trustedPublicKeys ?? []) this.keys.add(k.trim());
    for (const s of config.substituters ?? []) this.caches.add(this.cacheId(s));
    if (config.requireSigs === false) this.sigsOffChosen = true;
    this.save();
  }

  /** A cache by its absolute URL without trailing slashes: "./demo-cache" and "…/demo-cache/" are one cache. */
  private cacheId(url: string): string {
    let abs: string;
    try {
      abs = new URL(url.trim(), this.base).href;
    } catch {
      abs = url.trim();
    }
    return abs.replace(/\/+$/, '');
  }

  private load(): Remembered {
    try {
      const v = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? 'null') as Partial<Remembered> | null;
      return { keys: strings(v?.keys), substituters: strings(v?.substituters) };
    } catch {
      return { keys: [], substituters: [] };
    }
  }

  private save(): void {
    const stored = this.load();
    const remembered: Remembered = { keys: unique([...stored.keys, ...this.keys]), substituters: unique([...stored.substituters, ...this.caches]) };
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(remembered));
    } catch {
      // Storage full or disabled: the consent still holds for this session.
    }
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
