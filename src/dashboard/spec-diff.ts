// The spec fields in which jobs differ: each spec flattened to JSON pointers
// (arrays of numbers — inline data — count as one value), then the pointers whose
// values are not all equal.
export function flatten(value: unknown, pointer = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v !== 'object' || Array.isArray(v))) {
    if (value.length > 8 || value.some(Array.isArray)) {
      out.set(pointer, `[${value.length} items]`);
      return out;
    }
  }
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) out.set(pointer, JSON.stringify(value));
    for (const [k, v] of entries) flatten(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
    return out;
  }
  out.set(pointer, JSON.stringify(value));
  return out;
}

export function differingFields(specs: unknown[]): { pointer: string; values: (string | undefined)[] }[] {
  const flat = specs.map((s) => flatten(s));
  const pointers = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  return pointers
    .map((pointer) => ({ pointer, values: flat.map((f) => f.get(pointer)) }))
    .filter((row) => new Set(row.values).size > 1 && row.pointer !== '/name');
}
