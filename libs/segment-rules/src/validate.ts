import { AGE_OPERATORS, NUMERIC_OPERATORS, OPERATORS, type SegmentDefinition } from './definition';
import { parseDuration } from './duration';
import { compareCodePoints } from './values';

/** One thing wrong with a definition, at the path of the node: `all[2].where[0].op`. */
export interface RuleProblem {
  path: string;
  problem: string;
}

export type ValidationResult = { ok: true; definition: SegmentDefinition } | { ok: false; problems: RuleProblem[] };

/** `all[2].where[0].op: unknown operator "equals"`; the root is called `definition`. */
export const formatProblem = ({ path, problem }: RuleProblem): string => `${path || 'definition'}: ${problem}`;

export const LIMITS = { depth: 32, nodes: 1000, children: 100, filters: 20, listValues: 1000, nameLength: 200 } as const;

/** Segment keys: what `inSegment` may name. */
export const SEGMENT_KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;

const NODE_KINDS = ['all', 'any', 'not', 'trait', 'feature', 'event', 'inSegment'] as const;
const MEASURES = ['count', 'sum', 'first', 'last'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : JSON.stringify(v));
const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** Checks an untrusted definition; every problem is reported with the path of its node. */
export function validateDefinition(input: unknown): ValidationResult {
  const problems: RuleProblem[] = [];
  let nodes = 0;
  const report = (path: string, problem: string) => {
    if (problems.length < 50) problems.push({ path, problem });
  };

  const unknownKeys = (node: Json, path: string, allowed: readonly string[]) => {
    for (const key of Object.keys(node)) if (!allowed.includes(key)) report(at(path, key), `unknown field (expected ${allowed.join(', ')})`);
  };

  const name = (value: unknown, path: string, what: string): boolean => {
    if (typeof value !== 'string' || value.trim() === '') return (report(path, `must be a non-empty ${what} name`), false);
    if (value.length > LIMITS.nameLength) return (report(path, `must be at most ${LIMITS.nameLength} characters`), false);
    if (value.split('.').some((part) => part === '')) return (report(path, `"${value}" has an empty part between dots`), false);
    return true;
  };

  /** op and value of a trait, feature or property test. */
  const valueTest = (node: Json, path: string) => {
    const op = node.op;
    const value = node.value;
    const valuePath = at(path, 'value');
    if (typeof op !== 'string') return report(at(path, 'op'), `must be one of ${OPERATORS.join(', ')}`);
    switch (op) {
      case 'eq':
      case 'neq':
      case 'contains':
        if (!isScalar(value)) report(valuePath, `must be a string, a finite number or a boolean for "${op}", not ${describe(value)}`);
        return;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) report(valuePath, `must be a number or a string for "${op}", not ${describe(value)}`);
        return;
      case 'between': {
        if (!Array.isArray(value) || value.length !== 2) return report(valuePath, `must be [low, high] for "between", not ${describe(value)}`);
        if (!(
          (typeof value[0] === 'number' && typeof value[1] === 'number' && Number.isFinite(value[0]) && Number.isFinite(value[1])) ||
          (typeof value[0] === 'string' && typeof value[1] === 'string')
        )) {
          return report(valuePath, 'must be two numbers or two strings');
        }
        const above = typeof value[0] === 'string' ? compareCodePoints(value[0], value[1] as string) > 0 : (value[0] as number) > (value[1] as number);
        if (above) report(valuePath, `low (${JSON.stringify(value[0])}) is above high (${JSON.stringify(value[1])})`);
        return;
      }
      case 'in':
      case 'nin':
        if (!Array.isArray(value) || value.length === 0) return report(valuePath, `must be a non-empty list for "${op}", not ${describe(value)}`);
        if (value.length > LIMITS.listValues) return report(valuePath, `must have at most ${LIMITS.listValues} values`);
        value.forEach((item, i) => {
          if (!isScalar(item)) report(at(valuePath, i), `must be a string, a finite number or a boolean, not ${describe(item)}`);
        });
        return;
      case 'startsWith':
        if (typeof value !== 'string') report(valuePath, `must be a string for "startsWith", not ${describe(value)}`);
        return;
      case 'exists':
        if (value !== undefined && typeof value !== 'boolean') report(valuePath, `must be true or false for "exists", not ${describe(value)}`);
        return;
      default:
        report(at(path, 'op'), `unknown operator "${op}"`);
    }
  };

  const numberTest = (node: unknown, path: string, extraKeys: string[] = [], nonNegative = true) => {
    if (!isObject(node)) return report(path, `must be an object such as {"op": "gte", "value": 3}, not ${describe(node)}`);
    unknownKeys(node, path, [...extraKeys, 'op', 'value']);
    const op = node.op;
    if (typeof op !== 'string' || !(NUMERIC_OPERATORS as readonly string[]).includes(op)) {
      return report(at(path, 'op'), typeof op === 'string' ? `unknown operator "${op}" here (one of ${NUMERIC_OPERATORS.join(', ')})` : `must be one of ${NUMERIC_OPERATORS.join(', ')}`);
    }
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && (!nonNegative || v >= 0);
    const kind = nonNegative ? 'a number of 0 or more' : 'a finite number';
    if (op === 'between') {
      const v = node.value;
      if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) return report(at(path, 'value'), `must be [low, high], each ${kind}`);
      if ((v[0] as number) > (v[1] as number)) report(at(path, 'value'), `low (${String(v[0])}) is above high (${String(v[1])})`);
    } else if (!ok(node.value)) {
      report(at(path, 'value'), `must be ${kind}, not ${describe(node.value)}`);
    }
  };

  const ageTest = (node: unknown, path: string) => {
    if (!isObject(node)) return report(path, `must be an object such as {"op": "lte", "value": "P30D"}, not ${describe(node)}`);
    unknownKeys(node, path, ['op', 'value']);
    if (typeof node.op !== 'string' || !(AGE_OPERATORS as readonly string[]).includes(node.op)) {
      report(at(path, 'op'), typeof node.op === 'string' ? `unknown operator "${node.op}" here (one of ${AGE_OPERATORS.join(', ')})` : `must be one of ${AGE_OPERATORS.join(', ')}`);
    }
    duration(node.value, at(path, 'value'));
  };

  const duration = (value: unknown, path: string) => {
    if (typeof value !== 'string') return report(path, `must be an ISO-8601 duration such as P7D, not ${describe(value)}`);
    const parsed = parseDuration(value);
    if (typeof parsed === 'string') report(path, parsed);
  };

  const visit = (node: unknown, path: string, depth: number) => {
    nodes += 1;
    if (nodes === LIMITS.nodes + 1) report(path, `the definition has more than ${LIMITS.nodes} nodes`);
    if (nodes > LIMITS.nodes) return;
    if (depth > LIMITS.depth) return report(path, `nested deeper than ${LIMITS.depth} levels`);
    if (!isObject(node)) return report(path, `must be an object with one of ${NODE_KINDS.join(', ')}, not ${describe(node)}`);
    const kinds = NODE_KINDS.filter((k) => k in node);
    if (kinds.length === 0) return report(path, `must have one of ${NODE_KINDS.join(', ')} (found ${Object.keys(node).join(', ') || 'no fields'})`);
    if (kinds.length > 1) return report(path, `has both ${kinds.join(' and ')}; wrap them in "all" or "any"`);
    const kind = kinds[0];
    switch (kind) {
      case 'all':
      case 'any': {
        unknownKeys(node, path, [kind]);
        const children = node[kind];
        if (!Array.isArray(children) || children.length === 0) return report(at(path, kind), `must be a non-empty list of conditions, not ${describe(children)}`);
        if (children.length > LIMITS.children) return report(at(path, kind), `must have at most ${LIMITS.children} conditions`);
        children.forEach((child, i) => visit(child, at(at(path, kind), i), depth + 1));
        return;
      }
      case 'not':
        unknownKeys(node, path, ['not']);
        return visit(node.not, at(path, 'not'), depth + 1);
      case 'trait':
      case 'feature':
        unknownKeys(node, path, [kind, 'op', 'value']);
        name(node[kind], at(path, kind), kind);
        return valueTest(node, path);
      case 'inSegment':
        unknownKeys(node, path, ['inSegment']);
        if (typeof node.inSegment !== 'string' || !SEGMENT_KEY_PATTERN.test(node.inSegment)) {
          report(at(path, 'inSegment'), `must be a segment key (lower-case letters, digits, - and _), not ${describe(node.inSegment)}`);
        }
        return;
      case 'event': {
        unknownKeys(node, path, ['event', 'where', 'within', ...MEASURES]);
        name(node.event, at(path, 'event'), 'event');
        if (node.where !== undefined) {
          if (!Array.isArray(node.where)) report(at(path, 'where'), `must be a list of property filters, not ${describe(node.where)}`);
          else if (node.where.length > LIMITS.filters) report(at(path, 'where'), `must have at most ${LIMITS.filters} filters`);
          else
            node.where.forEach((filter, i) => {
              const filterPath = at(at(path, 'where'), i);
              if (!isObject(filter)) return report(filterPath, `must be an object such as {"property": "category", "op": "eq", "value": "cameras"}, not ${describe(filter)}`);
              unknownKeys(filter, filterPath, ['property', 'op', 'value']);
              name(filter.property, at(filterPath, 'property'), 'property');
              valueTest(filter, filterPath);
            });
        }
        if (node.within !== undefined) duration(node.within, at(path, 'within'));
        const measures = MEASURES.filter((m) => node[m] !== undefined);
        if (measures.length > 1) report(path, `has ${measures.join(' and ')}; a behaviour condition takes at most one (combine conditions with "all")`);
        if (node.count !== undefined) numberTest(node.count, at(path, 'count'));
        if (node.sum !== undefined) {
          numberTest(node.sum, at(path, 'sum'), ['property'], false);
          if (isObject(node.sum)) name(node.sum.property, at(at(path, 'sum'), 'property'), 'property');
        }
        if (node.first !== undefined) ageTest(node.first, at(path, 'first'));
        if (node.last !== undefined) ageTest(node.last, at(path, 'last'));
        return;
      }
    }
  };

  visit(input, '', 0);
  return problems.length === 0 ? { ok: true, definition: input as SegmentDefinition } : { ok: false, problems };
}
