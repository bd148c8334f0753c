/** The closure of `roots` under `getRefs`, sorted by path as closureInfo lists it. Pure: no I/O. */
export function closureOf(roots: string[], getRefs: (p: string) => string[]): string[] {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    for (const r of getRefs(p)) if (!seen.has(r)) todo.push(r);
  }
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
