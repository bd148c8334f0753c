// Config errors name JSON fields (contents[2].target); the page shows them at the control that
// edits the field, in the words of the form.

export interface FieldPlace {
  /** The id of the control that edits the field, when the form shows one. */
  id: string | undefined;
  /** The field as the form labels it. */
  words: string;
}

const entry = (section: string, i: string) => `${section}, entry ${Number(i) + 1}`;

const PLACES: [RegExp, (m: RegExpMatchArray) => FieldPlace][] = [
  [/^storeContents\[(\d+)\]\.object$/, (m) => ({ id: `store-${m[1]}-object`, words: `${entry('Store contents', m[1]!)}: Store path` })],
  [/^storeContents\[(\d+)\]\.symlink$/, (m) => ({ id: `store-${m[1]}-symlink`, words: `${entry('Store contents', m[1]!)}: Symlink` })],
  [/^storeContents(\[(\d+)\])?$/, () => ({ id: undefined, words: 'Store contents' })],
  [/^contents\[(\d+)\]\.(source|text)$/, (m) => ({ id: `content-${m[1]}-${m[2]}`, words: `${entry('Contents', m[1]!)}: ${m[2] === 'text' ? 'Text' : 'Source'}` })],
  [/^contents\[(\d+)\]\.target$/, (m) => ({ id: `content-${m[1]}-target`, words: `${entry('Contents', m[1]!)}: Target` })],
  [/^contents\[(\d+)\]$/, (m) => ({ id: `content-${m[1]}-target`, words: entry('Contents', m[1]!) })],
  [/^substituters(\[\d+\])?$/, () => ({ id: 'substituters', words: 'Binary caches: Substituters' })],
  [/^trustedPublicKeys(\[\d+\])?$/, () => ({ id: 'trusted-keys', words: 'Binary caches: Trusted public keys' })],
  [/^fileName$/, () => ({ id: 'file-name', words: 'File name' })],
  [/^toplevel$/, () => ({ id: 'toplevel', words: 'Toplevel store path' })],
];

export function fieldPlace(field: string): FieldPlace {
  for (const [re, place] of PLACES) {
    const m = field.match(re);
    if (m) return place(m);
  }
  return { id: undefined, words: field };
}
