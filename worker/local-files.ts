import { addPath, newDir, type ImageNode } from '../core/image/tree.ts';
import { textToBinary } from '../core/io/binary-string.ts';
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

/**
 * A dropped file as an image file, or a dropped folder (its files are in `files` as "folder/sub/file")
 * as a directory with its tree; modes 0644 and 0755, as `cp -a` gives a user's files (browsers do not
 * expose modes).
 */
export function droppedFileNode(files: Map<string, Blob>, source: string): ImageNode {
  const name = localName(source).replace(/\/+$/, '');
  const file = files.get(name);
  if (file !== undefined) return droppedFile(file);
  const prefix = `${name}/`;
  const inside = [...files].filter(([path]) => path.startsWith(prefix));
  if (inside.length === 0) throw new LocalFileMissingError(name);
  const dir = newDir(0o755);
  for (const [path, blob] of inside) addPath(dir, textToBinary(path.slice(prefix.length)), path.endsWith('/') ? newDir(0o755) : droppedFile(blob));
  return dir;
}

const droppedFile = (file: Blob): ImageNode => ({ kind: 'file', mode: 0o644, data: fileSource(file) });
