/** One audit entry's "what": each changed field with its value before and after. */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** JSON with object keys sorted, so equal values compare equal whatever order jsonb gave their keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/**
 * The fields whose value differs between `before` and `after` (null for a side that is absent:
 * a creation has no before, a deletion no after). `ignore` names bookkeeping fields (ids, times).
 */
export function diffFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null, ignore: readonly string[] = []): FieldChanges {
  const changes: FieldChanges = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of [...keys].sort()) {
    if (ignore.includes(key)) continue;
    const from = before?.[key] ?? null;
    const to = after?.[key] ?? null;
    if (canonical(from) !== canonical(to)) changes[key] = { from, to };
  }
  return changes;
}
