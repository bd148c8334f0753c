// The reference for system tarballs: the tree nixpkgs' make-system-tarball.sh builds, made with
// coreutils from the real store Nix built, then GNU tar with nixpkgs' exact flags. The registration
// comes from real Nix (`nix path-info --json`) through nixpkgs' closureInfo jq program, hashes
// turned back to nix32.
import { nix } from './nix.ts';

/**
 * Writes the reference tarball of `top`'s closure to `out`, building its tree in `dir`. `extra` is
 * bash run in `dir` first, with $store (the chroot store's root) and $top set: the contents and
 * extraCommands of the module being reproduced.
 */
export async function referenceSystemTarball(storeRoot: string, top: string, dir: string, out: string, extra: string): Promise<string> {
  const script = `
    set -eu
    store="$1"; dir="$2"; top="$3"; out="$4"
    rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
    ${extra}
    mkdir -p nix/store
    for p in $(nix-store --store "$store" -qR "$top"); do cp -a "$store$p" "nix/store/"; done
    nix path-info --store "$store" --json -r "$top" \\
      | jq '{closure: sort_by(.path)}' \\
      | jq -r '.closure | map([.path, .narHash, .narSize, "", (.references | length)] + (.references | sort)) | add | map("\\(.)\\n") | add' \\
      | head -n -1 \\
      | while IFS= read -r line; do
          # path-info --json prints SRI hashes; exportReferencesGraph (closureInfo's input) prints sha256:<nix32>.
          case "$line" in sha256-*) echo "sha256:$(nix hash to-base32 "$line")" ;; *) printf '%s\\n' "$line" ;; esac
        done > nix-path-registration
    chmod 0444 nix-path-registration
    tar --sort=name --mtime='@1' --owner=0 --group=0 --numeric-owner -c * > "$out"
  `;
  await nix('bash', ['-c', script, 'ref', storeRoot, dir, top, out]);
  return out;
}
