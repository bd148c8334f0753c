import type { ImageFile } from '../core/image/tree.ts';
import type { DataSource } from '../core/io/data-source.ts';
import { NixImagerError } from '../core/errors.ts';

export class LocalFileMissingError extends NixImagerError {
  override name = 'LocalFileMissingError';
  readonly code = 'config';
  constructor(name: string) {
    super(`contents: the file ${JSON.stringify(name)} is not in the page; drop it onto the Contents section (a web page cannot read ${JSON.stringify(name)} from disk by its name)`, { subject: name });
  }
}

/** The name a local content source ("./motd", "motd") refers to among the files dropped into the page. */
export function localName(source: string): string {
  return source.replace(/^(\.\/)+/, '');
}

const CHUNK = 1 << 20;

function fileSource(file: Blob): DataSource {
  return {
    size: file.size,
    async *stream() {
      for (let at = 0; at < file.size; at += CHUNK) yield new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer());
    },
  };
}

/** A dropped file as an image file; mode 0644 as `cp -a` gives a regular user file (browsers do not expose modes). */
export function droppedFileNode(files: Map<string, Blob>, source: string): ImageFile {
  const name = localName(source);
  const file = files.get(name);
  if (file === undefined) throw new LocalFileMissingError(name);
  return { kind: 'file', mode: 0o644, data: fileSource(file) };
}
