/**
 * A filter on a track event's properties, as journeys' triggers and experiments' metrics write them:
 * eq, neq (strings without regard to case), gt, gte, lt, lte (numbers), contains (a substring, or
 * an element of a list), exists. Pure.
 */
export const EVENT_FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'] as const;

export interface EventPropertyFilter {
  property: string;
  op: (typeof EVENT_FILTER_OPS)[number];
  /** Absent for `exists`. */
  value?: string | number | boolean;
}

/** A property by name; a dotted name reads nested objects (`product.category`). */
function propertyAt(properties: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(properties, path)) return properties[path];
  let value: unknown = properties;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Strings compare without regard to case ("Cameras" = "cameras"), numbers as numbers. */
const same = (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b);

export function propertyMatches(properties: Record<string, unknown>, filter: EventPropertyFilter): boolean {
  const value = propertyAt(properties, filter.property);
  switch (filter.op) {
    case 'exists':
      return value !== undefined && value !== null;
    case 'eq':
      return same(value, filter.value);
    case 'neq':
      return !same(value, filter.value);
    case 'gt':
      return typeof value === 'number' && value > (filter.value as number);
    case 'gte':
      return typeof value === 'number' && value >= (filter.value as number);
    case 'lt':
      return typeof value === 'number' && value < (filter.value as number);
    case 'lte':
      return typeof value === 'number' && value <= (filter.value as number);
    case 'contains':
      if (Array.isArray(value)) return value.some((v) => same(v, filter.value));
      return typeof value === 'string' && value.toLowerCase().includes(String(filter.value).toLowerCase());
  }
}
