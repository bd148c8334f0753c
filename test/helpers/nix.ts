import { run, sh } from './cli.ts';

/** Daemon-less Nix (Debian's nix-bin) that never touches /nix: every call names its --store. */
export const NIX_ENV: Record<string, string> = {
  NIX_REMOTE: '',
  NIX_CONFIG: ['build-users-group =', 'sandbox = false', 'experimental-features = nix-command', 'substituters =', 'require-sigs = false'].join('\n'),
};

export function nix(cmd: string, args: string[], input?: Uint8Array): Promise<string> {
  return sh(cmd, args, { env: NIX_ENV, ...(input ? { input } : {}) });
}

export function nixRun(cmd: string, args: string[], input?: Uint8Array) {
  return run(cmd, args, { env: NIX_ENV, ...(input ? { input } : {}) });
}
