import type { ConfigJson } from './config-draft.ts';

// examples/demo.json (the CLI's demo config) when it exists; a glob so the app builds without it.
const found = import.meta.glob<ConfigJson>('../examples/demo.json', { eager: true, import: 'default' });

/** The config a first visit opens with: the demo, its binary cache served by this site at ./demo-cache. */
export function demoConfig(): ConfigJson {
  const demo: ConfigJson = structuredClone(Object.values(found)[0] ?? { format: 'tarball', storeContents: [] });
  demo.substituters = ['./demo-cache'];
  return demo;
}
