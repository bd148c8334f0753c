import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ImageDir, ImageNode } from '../../core/image/tree.ts';
import { binaryToBytes, bytesToBinary } from '../../core/io/binary-string.ts';
import type { DataSource } from '../../core/io/data-source.ts';

/** One line per entry, as a reader left it on disk: type, mode, bytes or target. */
export function describeDisk(dir: Buffer, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
    const p = Buffer.concat([dir, Buffer.from('/'), name]);
    const rel = prefix + bytesToBinary(name);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`l ${JSON.stringify(rel)} -> ${JSON.stringify(bytesToBinary(readlinkSync(p, { encoding: 'buffer' })))}`);
    else if (st.isFile()) out.push(`f ${JSON.stringify(rel)} ${mode} ${Buffer.from(readFileSync(p)).toString('base64')}`);
    else {
      out.push(`d ${JSON.stringify(rel)} ${mode}`);
      out.push(...describeDisk(p, `${rel}/`));
    }
  }
  return out;
}

async function readAll(data: DataSource): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of data.stream()) parts.push(c.slice());
  return Buffer.concat(parts);
}

/** The same description computed from an image tree, with `mode` saying what the format keeps. */
export async function describeImage(dir: ImageDir, mode: (node: ImageNode) => number, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of [...dir.entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(binaryToBytes(a)), Buffer.from(binaryToBytes(b))))) {
    const node = dir.entries.get(name)!;
    const rel = prefix + name;
    if (node.kind === 'symlink') out.push(`l ${JSON.stringify(rel)} -> ${JSON.stringify(node.target)}`);
    else if (node.kind === 'file') out.push(`f ${JSON.stringify(rel)} ${mode(node).toString(8)} ${(await readAll(node.data)).toString('base64')}`);
    else {
      out.push(`d ${JSON.stringify(rel)} ${mode(node).toString(8)}`);
      out.push(...(await describeImage(node, mode, `${rel}/`)));
    }
  }
  return out;
}
