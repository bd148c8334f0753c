import { execFileSync } from 'node:child_process';
import { createWriteStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { once } from 'node:events';
import type { ImageDir } from '../../core/image/tree.ts';
import { isoStream } from '../../core/iso9660/iso-writer.ts';
import type { IsoOptions } from '../../core/iso9660/iso-options.ts';

/** Streams isoStream() into a file. */
export async function writeIso(root: ImageDir, opts: IsoOptions, path: string): Promise<void> {
  const ws = createWriteStream(path);
  for await (const chunk of isoStream(root, opts)) if (!ws.write(chunk)) await once(ws, 'drain');
  ws.end();
  await once(ws, 'finish');
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** What a reader should recreate: one line per path, with type, mode (after the -r rule) and content or target. */
export function describeTree(dir: string, rrModes: boolean): string[] {
  const out: string[] = [];
  const visit = (rel: Buffer) => {
    for (const name of readdirSync(Buffer.concat([Buffer.from(dir + '/'), rel]), { encoding: 'buffer' }).sort(Buffer.compare)) {
      const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const full = Buffer.concat([Buffer.from(dir + '/'), r]);
      const st = lstatSync(full);
      const p = r.toString('latin1');
      if (st.isSymbolicLink()) out.push(`${p} -> ${readlinkSync(full, { encoding: 'buffer' }).toString('latin1')}`);
      else if (st.isDirectory()) {
        out.push(`${p}/ ${(rrModes ? 0o555 : st.mode & 0o777).toString(8)}`);
        visit(r);
      } else {
        const mode = rrModes ? 0o444 | (st.mode & 0o111 ? 0o111 : 0) : st.mode & 0o777;
        const data = readFileSync(full);
        out.push(`${p} ${mode.toString(8)} ${data.length} ${data.subarray(0, 64).toString('hex')} ${data.reduce((a, b) => (a * 31 + b) >>> 0, 7)}`);
      }
    }
  };
  visit(Buffer.alloc(0));
  return out;
}

export function extractWithXorriso(iso: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', dir]);
}

export function extractWithBsdtar(iso: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  run('bsdtar', ['-xf', iso, '-C', dir]);
}

