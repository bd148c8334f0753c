#!/usr/bin/env bash
# Rebuilds the embedded demo: a tiny NixOS-like system built by real Nix (daemon-less, in a
# throw-away chroot store, busybox-static as the only builder), written as an xz-compressed
# binary cache signed with a fresh key into public/demo-cache/, and examples/demo.json to build
# a tarball from it. The secret key lives only in the temporary directory and is discarded.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="$repo/public/demo-cache"
work="$(mktemp -d "${TMPDIR:-/tmp}/nix-imager-demo.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
store="$work/store"
key=nix-imager-demo-1

. "$repo/test/fixtures/nix-env.sh"

mkdir -p "$work/busybox-dir/bin"
cp /bin/busybox "$work/busybox-dir/bin/busybox"
cat > "$work/demo.nix" <<'NIX'
{ busyboxDir, builderNix }:
let
  inherit (import (/. + builderNix) busyboxDir) mk;
in rec {
  hello = mk "demo-hello-1.0" ''
    mkdir -p $out/bin $out/share/doc/demo-hello
    printf '#!/bin/sh\necho "Hello from the nix-imager demo system!"\n' > $out/bin/hello
    chmod 0555 $out/bin/hello
    ln -s hello $out/bin/hi
    printf 'demo-hello: a shell script that greets.\nIt needs nothing but /bin/sh.\n' > $out/share/doc/demo-hello/README
  '';
  etc = mk "demo-etc" ''
    mkdir -p $out/etc
    printf 'NAME=NixOS\nID=nixos\nVERSION_ID="24.05"\nPRETTY_NAME="NixOS 24.05 (nix-imager demo)"\nHOME_URL="https://nixos.org/"\n' > $out/etc/os-release
    printf 'Welcome to the nix-imager demo system.\nRun /run/current-system/sw/bin/hello\n' > $out/etc/motd
  '';
  toplevel = mk "nixos-system-demo-24.05" ''
    mkdir -p $out/share/doc
    ln -s ${hello} $out/sw
    ln -s ${etc}/etc $out/etc
    ln -s ${hello}/share/doc/demo-hello $out/share/doc/demo-hello
    printf '#!/bin/sh\nexport PATH=%s/bin\ncat %s/etc/motd\nexec hello\n' ${hello} ${etc} > $out/init
    chmod 0555 $out/init
    printf '24.05-demo' > $out/nixos-version
  '';
}
NIX
toplevel="$(nix-build --store "$store" "$work/demo.nix" -A toplevel --no-out-link --quiet --argstr busyboxDir "$work/busybox-dir" --argstr builderNix "$repo/test/fixtures/busybox-builder.nix")"

nix-store --generate-binary-cache-key "$key" "$work/$key.sec" "$work/$key.pub"
rm -rf "$cache"
nix copy --store "$store" --to "file://$cache?compression=xz&secret-key=$work/$key.sec" "$toplevel"
# Empty directories nix copy makes and nothing reads; git would not keep them anyway.
rmdir "$cache/log" "$cache/realisations" 2>/dev/null || true
cp "$work/$key.pub" "$cache/$key.pub"

mkdir -p "$repo/examples"
jq -n --arg top "$toplevel" --arg pub "$(cat "$work/$key.pub")" '{
  format: "tarball",
  substituters: ["../public/demo-cache"],
  trustedPublicKeys: [$pub],
  storeContents: [{object: $top, symlink: "/run/current-system"}],
  contents: [{text: "demo", target: "/etc/nixos-version-demo"}],
  compression: "none"
}' > "$repo/examples/demo.json"
echo "demo cache: $(du -sb "$cache" | cut -f1) bytes, toplevel $toplevel" >&2
