import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ERROR_HEADLINES, fromErrorData } from '../core/errors.ts';
import { ConfigError, parseConfig, type BuildConfig } from '../core/pipeline/config.ts';
import { buildInThread } from './build-in-thread.ts';
import { substituterUrl } from './build-to-file.ts';
import { formatBytes } from '../core/io/format-bytes.ts';
import { progressLine } from './progress-line.ts';

const HELP = `nix-imager — NixOS system tarballs, ISO images, disk images and squashfs store images from a Nix binary cache

Usage:
  nix-imager build <config.json> [--output <file>] [options]
  nix-imager --help | --version

Builds the image a config describes: resolves the closure of its storeContents on the
substituters, checks every narinfo signature, downloads and verifies every NAR (FileHash,
FileSize, NarHash, NarSize and the NAR format rules), and writes the image. The output
appears under its name only when it is complete; on failure nothing is left there.

Options:
  -o, --output <file>   where to write the image (a directory: the image keeps its default
                        name, e.g. nixos-system-x86_64-linux.tar.xz). Default: that name in
                        the current directory.
  --cache-dir <dir>     NAR cache (verified, uncompressed NARs keyed by NarHash). Default:
                        $NIX_IMAGER_CACHE, else $XDG_CACHE_HOME/nix-imager, else ~/.cache/nix-imager.
  --threads <n>         compression workers (default: the config's "threads", 0 = one per core).
                        Each holds about 150 MiB at xz -6 (liblzma's 94 MiB and a block in and out).
  -q, --quiet           no progress line.
  -h, --help            this text.  --version: the version.

Config (JSON; relative paths are relative to the config file):
  format              "tarball" | "iso" | "squashfs" | "netboot"                      (required)
  toplevel            "/nix/store/…-nixos-system-…": with "iso", a NixOS live ISO built from
                      the toplevel alone (squashfs store, isolinux from its syslinux, systemd-boot
                      under UEFI, volume ID from root=LABEL=); with "netboot" (which needs it),
                      bzImage, initrd (+ the store as a cpio) and netboot.ipxe in one tarball,
                      or the three files with --output DIR/
  substituters        binary caches, tried in order: "https://…", "file:///…" or a
                      relative path                          (default ["https://cache.nixos.org"])
  trustedPublicKeys   ["name:base64", …]          (default the cache.nixos.org-1 key)
  requireSigs         refuse paths not signed by a trusted key (default true)
                      Building a config you did not write trusts its author: its substituters,
                      trustedPublicKeys and requireSigs decide what goes into the image.
  toplevel            a NixOS system's toplevel store path (config.system.build.toplevel):
                      with "iso", its live ISO (boot menus, kernel and initrd from it); with
                      "tarball", its closure in make-system-tarball's layout, shaped by "preset"
  preset              with "toplevel" and "tarball": the container tarball of nixpkgs' module
                        "lxc"          LXC/Incus (lxc-container.nix): /sbin/init -> <toplevel>/init,
                                       /etc/os-release, empty /proc /sys /dev
                        "proxmox-lxc"  Proxmox VE CT template (proxmox-lxc.nix): /sbin/init,
                                       empty /root and /etc/systemd/network
                      without a preset: the plain system tarball (closure + nix-path-registration)
  storeContents       [{ "object": "/nix/store/…", "symlink": "/run/current-system" | "none" }]
                      their closure goes under /nix/store, with /nix-path-registration
                      (for nix-store --load-db) and the symlinks
  contents            [{ "source": "/nix/store/…/file" | "./local-file", "target": "/abs/path" },
                       { "text": "…", "target": "/abs/path" }]   copied like cp -a; text is 0444
  compression         "xz" (tarball default) | "gzip" | "zstd" | "none" (iso/squashfs default)
  xzPreset            0-9 (default 6)          xzBlockSize  bytes per xz block (default 24 MiB)
  threads             compression workers, 0 = one per core (default 0)
  squashfsCompression "zstd" (default) | "xz" | "gzip"   squashfsBlockSize (default 1 MiB)
  sourceDateEpoch     timestamps in ISO and squashfs images (default 315532800)
  fileName            output base name without compression extension
  system              used in default names (default "x86_64-linux")
  iso                 { isoName, volumeID, appID, publisher, bootable, bootImage,
                        efiBootable, efiBootImage, usbBootable, isohybridMbrImage,
                        squashfsContents: ["/nix/store/…"], squashfsCompression,
                        bootTimeout: seconds the boot menus wait, with toplevel (default 10) }
                      with toplevel, bootable/efiBootable/usbBootable default to true and the
                      boot images come from the closure

Exit status: 0 on success; 1 when the build fails (one line on stderr says which store path
and what failed); 2 for a usage error.
`;

class UsageError extends Error {}


async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function outputPath(given: string | undefined, config: BuildConfig): Promise<string> {
  if (given === undefined) return resolve(config.fileName);
  if (config.format === 'netboot' && given.endsWith('/')) return `${resolve(given)}/`;
  const st = await stat(given).catch(() => null);
  return st?.isDirectory() ? join(resolve(given), config.fileName) : resolve(given);
}

async function runBuild(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      'cache-dir': { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('build takes exactly one config file');
  const configPath = resolve(positionals[0]!);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new ConfigError('(file)', `cannot read config ${configPath}: ${(e as Error).message}`);
  }
  const configDir = dirname(configPath);
  // Parsed here too, to fail before the build thread starts and to name the output.
  const config = parseConfig(json, { resolveSubstituter: (s) => substituterUrl(s, configDir) });
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 0) throw new UsageError('--threads takes a whole number (0 = one per core)');
  }
  const output = await outputPath(values.output, config);
  const cacheDir = values['cache-dir'] === undefined ? undefined : resolve(values['cache-dir']);
  const progress = !values.quiet && process.stderr.isTTY ? progressLine(process.stderr) : undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const summary = await buildInThread({ json, output, configDir, cacheDir, threads, progress: progress !== undefined }, progress?.update, abort.signal);
    progress?.clear();
    for (const note of summary.notes) process.stderr.write(`nix-imager: note: ${note}\n`);
    if (!values.quiet) {
      const secs = (Date.now() - started) / 1000;
      process.stderr.write(
        `nix-imager: wrote ${output} (${formatBytes(summary.bytes)}; ${summary.storePaths} store paths, ${formatBytes(summary.narBytes)} unpacked) in ${secs.toFixed(1)} s\n`,
      );
    }
  } finally {
    progress?.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What failed, on one line, led by what kind of failure it is (a config error and an interruption say so themselves). */
function failureLine(e: unknown): string {
  const error = fromErrorData(e);
  const message = error.message.replace(/\s*\n\s*/g, ' ');
  return error.code === 'config' || error.code === 'aborted' ? message : `${ERROR_HEADLINES[error.code]}: ${message}`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      process.stdout.write(`${await version()}\n`);
      return 0;
    }
    if (command !== 'build') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    await runBuild(rest);
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`nix-imager: ${usage ? (e as Error).message : failureLine(e)}\n`);
    if (usage) process.stderr.write(`Try 'nix-imager --help'.\n`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
