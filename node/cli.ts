import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ERROR_HEADLINES, fromErrorData } from '../core/errors.ts';
import { ConfigError, parseConfig, type BuildConfig } from '../core/pipeline/config.ts';
import { configHelp } from '../core/pipeline/config-schema.ts';
import { buildInThread } from './build-in-thread.ts';
import { substituterUrl } from './build-to-file.ts';
import { formatBytes } from '../core/io/format-bytes.ts';
import { progressLine } from './progress-line.ts';
import { loadCredentials } from './cache-credentials.ts';
import { secretsOf } from '../core/cache/credentials.ts';

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
                        the current directory. "-" is standard output (e.g. | dd); an existing
                        device or FIFO is written into; a symlink's target file is replaced.
  --cache-dir <dir>     NAR cache (verified, uncompressed NARs keyed by NarHash). Default:
                        $NIX_IMAGER_CACHE, else $XDG_CACHE_HOME/nix-imager, else ~/.cache/nix-imager.
  --threads <n>         compression workers (default: the config's "threads", 0 = one per core;
                        at most one per core, more would only cost memory).
                        Each holds about 150 MiB at xz -6 (liblzma's 94 MiB and a block in and out).
  --timeout <s>         seconds to wait for a response's headers, and the window of the body's
                        rate check (default 30).
  --min-rate <B/s>      slowest body accepted, in bytes per second averaged over --timeout
                        (default 1024); a slower or stalled download is retried (3 tries for
                        a NAR, 5 for a narinfo), then fails naming the store path and URL.
  --netrc-file <file>   credentials for private caches, as Nix's netrc-file: "machine HOST
                        login USER password SECRET" (Cachix and Attic: "machine HOST password
                        TOKEN"), sent as HTTP Basic auth to that host only, never on a redirect
                        to another. Default: $NIX_IMAGER_NETRC, else /etc/nix/netrc, else
                        ~/.netrc, when readable.
  --token <host>=<tok>  a bearer token for the substituter on <host> (repeatable; takes
                        precedence over netrc). $NIX_IMAGER_TOKEN_<HOST> does the same and keeps
                        the token out of the process list: the host upper-case, every other
                        character "_" (cache.example.com: $NIX_IMAGER_TOKEN_CACHE_EXAMPLE_COM).
                        A cache that answers 401 or 403 fails the build at once, naming it.
  -q, --quiet           no progress line.
  -h, --help            this text.  --version: the version.

Config (JSON; relative paths are relative to the config file):
${configHelp()}

Building a config you did not write trusts its author: its substituters, trustedPublicKeys and
requireSigs decide what goes into the image.

Exit status: 0 on success; 1 when the build fails (one line on stderr says which store path
and what failed); 2 for a usage error.
`;

class UsageError extends Error {}


function httpHosts(substituters: string[]): string[] {
  return substituters.flatMap((s) => (/^https?:/i.test(s) ? [new URL(s).hostname] : []));
}

/** Every secret the build was given: no line this process prints may hold one. */
const secrets: string[] = [];

function scrubbed(line: string): string {
  return secrets.reduce((l, s) => l.split(s).join('…'), line);
}

function positiveNumber(given: string | undefined, flag: string, fallback: number): number {
  if (given === undefined) return fallback;
  const n = Number(given);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} takes a positive number`);
  return n;
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function outputPath(given: string | undefined, config: BuildConfig): Promise<string> {
  if (given === undefined) return resolve(config.fileName);
  if (given === '-') return given;
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
      timeout: { type: 'string' },
      'min-rate': { type: 'string' },
      'netrc-file': { type: 'string' },
      token: { type: 'string', multiple: true },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('build takes exactly one config file');
  const configPath = resolve(positionals[0]!);
  let json: unknown;
  try {
    // fatal: bytes that are not UTF-8 would otherwise become U+FFFD in file names, silently.
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readFile(configPath)));
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
  const credentials = await loadCredentials({ netrcFile: values['netrc-file'], tokens: values.token ?? [], hosts: httpHosts(config.substituters), env: process.env });
  secrets.push(...secretsOf(credentials));
  const http = {
    timeoutMs: positiveNumber(values.timeout, '--timeout', 30) * 1000,
    minBytesPerSecond: positiveNumber(values['min-rate'], '--min-rate', 1024),
    credentials,
  };
  const output = await outputPath(values.output, config);
  const cacheDir = values['cache-dir'] === undefined ? undefined : resolve(values['cache-dir']);
  const progress = !values.quiet && process.stderr.isTTY ? progressLine(process.stderr) : undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const summary = await buildInThread({ json, output, configDir, cacheDir, threads, http, progress: progress !== undefined }, progress?.update, abort.signal);
    progress?.clear();
    for (const note of summary.notes) process.stderr.write(`nix-imager: note: ${note}\n`);
    if (!values.quiet) {
      const secs = (Date.now() - started) / 1000;
      process.stderr.write(
        `nix-imager: wrote ${output === '-' ? 'standard output' : output} (${formatBytes(summary.bytes)}; ${summary.storePaths} store paths, ${formatBytes(summary.narBytes)} unpacked) in ${secs.toFixed(1)} s\n`,
      );
    }
  } finally {
    progress?.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What failed, on one line, led by what kind of failure it is (a config error and an interruption say so themselves). */
/** The longest failure line printed: a message listing thousands of paths stays readable (and a terminal survives it). */
const MAX_LINE = 2000;

function failureLine(e: unknown): string {
  const error = fromErrorData(e);
  const message = error.message.replace(/\s*\n\s*/g, ' ');
  const line = error.code === 'config' || error.code === 'aborted' ? message : `${ERROR_HEADLINES[error.code]}: ${message}`;
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE)}… (${line.length - MAX_LINE} more characters)`;
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
    process.stderr.write(scrubbed(`nix-imager: ${usage ? (e as Error).message : failureLine(e)}\n`));
    if (usage) process.stderr.write(`Try 'nix-imager --help'.\n`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
