import {
  isAll,
  isAny,
  isBehaviour,
  isFeature,
  isMembership,
  isNot,
  isTrait,
  pathOf,
  type AgeTest,
  type BehaviourCondition,
  type NumberTest,
  type SegmentDefinition,
  type ValueTest,
} from './definition';
import type { TimeBoundary } from './dependencies';
import { durationOf, subtractDuration } from './duration';
import { microUnits } from './values';

/**
 * Compiles definitions to parameterised SQL over segmentation's read model, with the semantics of
 * `values.ts` and `evaluate.ts` (ARCHITECTURE §6). Every value, name and path from a definition is a
 * bind parameter; only the table names given by the caller and generated aliases are spliced in.
 *
 * The behavioural aggregates all the definitions need are computed in one pass over the facts
 * (one `count(*) FILTER (...)`, `sum` or `min`/`max` column per distinct measure, grouped by
 * profile) and joined to `profile_view` once, so a batch of segments costs one scan of the facts.
 */
export interface SqlTables {
  /** `profile_view(profile_id, traits jsonb, features jsonb)` */
  profileView: string;
  /** `behaviour_facts(profile_id, name text, props jsonb, occurred_at timestamptz)` */
  behaviourFacts: string;
  /** `memberships(segment_id, profile_id)` */
  memberships: string;
}

export interface SqlContext {
  tables: SqlTables;
  /** The evaluation time (epoch milliseconds): windows and ages are measured back from it. */
  now: number;
  /** The id stored in `memberships.segment_id` for a segment key (`inSegment`). */
  segmentId: (key: string) => string | undefined;
}

export interface CompiledQuery {
  text: string;
  values: unknown[];
}

export class UnknownSegmentError extends Error {
  constructor(readonly key: string) {
    super(`inSegment: no segment with key "${key}"`);
  }
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/** A jsonb path walk through objects only (`->` with a text key yields NULL on an array, as `lookup` does). */
function jsonPath(column: string, name: string, params: Params): string {
  return pathOf(name).reduce((expr, key) => `${expr} -> ${params.add(key, 'text')}`, column);
}

/**
 * A numeric comparison as one SQL/JSON path test on the whole document (`strict $."a"."b" >= 5`):
 * it reads the value in place, where `->`, `jsonb_typeof` and a cast would copy and convert it
 * (~5× cheaper per profile). Strict mode walks objects only and compares numbers only, and `@@`
 * answers NULL for anything else, as `lookup` and the typed tests do in memory. Numbers compare
 * as numeric, which orders JSON written from doubles exactly as the doubles.
 */
function numericPathTest(column: string, name: string, comparisons: Array<[string, number]>, params: Params): string {
  const path = `$${pathOf(name)
    .map((key) => `.${JSON.stringify(key)}`)
    .join('')}`;
  const predicate = comparisons.map(([op, c]) => `${path} ${op} ${JSON.stringify(c)}`).join(' && ');
  return `coalesce(${column} @@ ${params.add(`strict ${predicate}`, 'jsonpath')}, false)`;
}

/**
 * A value test on the value at `name` in the jsonb `column`, as a boolean expression that is never
 * NULL, so NOT and OR behave as in memory.
 */
function valueTestSql(column: string, name: string, test: ValueTest, params: Params): string {
  // The `->` walk is built only when used: an unused parameter would have no type.
  let walk: string | undefined;
  const x = () => (walk ??= jsonPath(column, name, params));
  const typed = (type: string, then: string) => `(CASE WHEN jsonb_typeof(${x()}) = '${type}' THEN ${then} ELSE false END)`;
  const ordered = (c: number | string, op: string) => {
    if (typeof c === 'number') return numericPathTest(column, name, [[op, c]], params);
    return typed('string', `(${x()} #>> '{}') COLLATE "C" ${op} (${params.add(c, 'text')} COLLATE "C")`);
  };
  const eq = (c: unknown) => `coalesce(${x()} = ${params.add(JSON.stringify(c), 'jsonb')}, false)`;
  switch (test.op) {
    case 'exists': {
      const present = `coalesce(jsonb_typeof(${x()}) <> 'null', false)`;
      return test.value === false ? `(NOT ${present})` : present;
    }
    case 'eq':
      return eq(test.value);
    case 'neq':
      return `(NOT ${eq(test.value)})`;
    case 'in':
    case 'nin': {
      const member = `coalesce(${x()} = ANY (ARRAY(SELECT jsonb_array_elements(${params.add(JSON.stringify(test.value), 'jsonb')}))), false)`;
      return test.op === 'in' ? member : `(NOT ${member})`;
    }
    case 'gt':
      return ordered(test.value, '>');
    case 'gte':
      return ordered(test.value, '>=');
    case 'lt':
      return ordered(test.value, '<');
    case 'lte':
      return ordered(test.value, '<=');
    case 'between': {
      const [low, high] = test.value;
      if (typeof low === 'number' && typeof high === 'number')
        return numericPathTest(
          column,
          name,
          [
            ['>=', low],
            ['<=', high],
          ],
          params,
        );
      return `(${ordered(low, '>=')} AND ${ordered(high, '<=')})`;
    }
    case 'contains': {
      const inString = typeof test.value === 'string' ? `strpos(${x()} #>> '{}', ${params.add(test.value, 'text')}) > 0` : 'false';
      const inArray = `EXISTS (SELECT 1 FROM jsonb_array_elements(${x()}) AS element(v) WHERE element.v = ${params.add(JSON.stringify(test.value), 'jsonb')})`;
      return `(CASE jsonb_typeof(${x()}) WHEN 'string' THEN ${inString} WHEN 'array' THEN ${inArray} ELSE false END)`;
    }
    case 'startsWith':
      return typed('string', `starts_with(${x()} #>> '{}', ${params.add(test.value, 'text')})`);
  }
}

function numberTestSql(x: string, test: NumberTest, params: Params, cast: string, scale: (n: number) => number = (n) => n): string {
  if (test.op === 'between') return `(${x} BETWEEN ${params.add(scale(test.value[0]), cast)} AND ${params.add(scale(test.value[1]), cast)})`;
  const op = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[test.op];
  return `(${x} ${op} ${params.add(scale(test.value), cast)})`;
}

function ageTestSql(x: string, test: AgeTest, now: number, params: Params): string {
  const threshold = params.add(new Date(subtractDuration(now, durationOf(test.value))).toISOString(), 'timestamptz');
  const op = { lte: '>=', lt: '>', gte: '<=', gt: '<' }[test.op];
  return `coalesce(${x} ${op} ${threshold}, false)`;
}

/** The behavioural measures of a batch of definitions: one aggregate column each, shared when equal. */
class Aggregates {
  private readonly columns = new Map<string, { alias: string; sql: string; since: number | null }>();
  readonly events = new Set<string>();

  constructor(
    private readonly params: Params,
    private readonly now: number,
  ) {}

  get size(): number {
    return this.columns.size;
  }

  /** The alias of the column holding this condition's measure (`a.bN`). */
  column(condition: BehaviourCondition): string {
    const measure = condition.sum ? 'sum' : condition.first ? 'min' : condition.last ? 'max' : 'count';
    const key = JSON.stringify([measure, condition.event, condition.where ?? [], condition.within ?? null, condition.sum?.property ?? null]);
    const since = this.earliestRelevant(condition);
    const existing = this.columns.get(key);
    if (existing) {
      // Shared by conditions that need different history: keep what the widest needs.
      existing.since = existing.since === null || since === null ? null : Math.min(existing.since, since);
      return existing.alias;
    }
    this.events.add(condition.event);
    const filters = [`f.name = ${this.params.add(condition.event, 'text')}`];
    if (condition.within) filters.push(`f.occurred_at >= ${this.params.add(new Date(subtractDuration(this.now, durationOf(condition.within))).toISOString(), 'timestamptz')}`);
    for (const filter of condition.where ?? []) filters.push(valueTestSql('f.props', filter.property, filter, this.params));
    const where = filters.join(' AND ');
    let sql: string;
    if (measure === 'sum') {
      const v = jsonPath('f.props', (condition.sum as { property: string }).property, this.params);
      // In millionths, rounded like microUnits(): exact, whatever the order of the rows.
      sql = `sum(CASE WHEN jsonb_typeof(${v}) = 'number' THEN round((${v})::numeric * 1000000) END) FILTER (WHERE ${where})`;
    } else if (measure === 'count') {
      sql = `count(*) FILTER (WHERE ${where})`;
    } else {
      sql = `${measure}(f.occurred_at) FILTER (WHERE ${where})`;
    }
    const alias = `b${this.columns.size}`;
    this.columns.set(key, { alias, sql, since });
    return alias;
  }

  /**
   * The oldest fact that can change this condition's outcome (epoch ms), or null when any can:
   * the start of its window, or for "last occurrence at most D ago" now − D (an older fact
   * cannot make the latest one recent). Facts older than that are not even read.
   */
  private earliestRelevant(condition: BehaviourCondition): number | null {
    if (condition.within) return subtractDuration(this.now, durationOf(condition.within));
    if (condition.last && (condition.last.op === 'lte' || condition.last.op === 'lt')) return subtractDuration(this.now, durationOf(condition.last.value));
    return null;
  }

  /**
   * `WITH agg AS (...)`, or nothing when no definition reads behaviour. Each event name is read
   * only as far back as its conditions need, so the one pass over facts skips old history that
   * only windowed rules would have filtered out anyway.
   */
  cte(facts: string, onlyProfiles?: string): string {
    if (this.columns.size === 0) return '';
    const columns = [...this.columns.values()].map((c) => `${c.sql} AS ${c.alias}`).join(', ');
    const since = new Map<string, number | null>();
    for (const [key, column] of this.columns) {
      const event = (JSON.parse(key) as [string, string])[1];
      const known = since.get(event);
      since.set(event, known === undefined ? column.since : known === null || column.since === null ? null : Math.min(known, column.since));
    }
    const unbounded = [...since].filter(([, t]) => t === null).map(([e]) => e);
    const ranges = [...since]
      .filter(([, t]) => t !== null)
      .map(([e, t]) => `(f.name = ${this.params.add(e, 'text')} AND f.occurred_at >= ${this.params.add(new Date(t as number).toISOString(), 'timestamptz')})`);
    if (unbounded.length > 0) ranges.push(`f.name = ANY (ARRAY(SELECT jsonb_array_elements_text(${this.params.add(JSON.stringify(unbounded), 'jsonb')})))`);
    const only = onlyProfiles ? `f.profile_id IN (SELECT profile_id FROM ${onlyProfiles}) AND ` : '';
    return `WITH agg AS (SELECT f.profile_id, ${columns} FROM ${facts} f WHERE ${only}(${ranges.join(' OR ')}) GROUP BY f.profile_id) `;
  }
}

function predicateSql(definition: SegmentDefinition, params: Params, aggregates: Aggregates, context: SqlContext): string {
  const recurse = (node: SegmentDefinition) => predicateSql(node, params, aggregates, context);
  if (isAll(definition)) return `(${definition.all.map(recurse).join(' AND ')})`;
  if (isAny(definition)) return `(${definition.any.map(recurse).join(' OR ')})`;
  if (isNot(definition)) return `(NOT ${recurse(definition.not)})`;
  if (isTrait(definition)) return valueTestSql('pv.traits', definition.trait, definition, params);
  if (isFeature(definition)) return valueTestSql('pv.features', definition.feature, definition, params);
  if (isMembership(definition)) {
    const id = context.segmentId(definition.inSegment);
    if (id === undefined) throw new UnknownSegmentError(definition.inSegment);
    return `EXISTS (SELECT 1 FROM ${context.tables.memberships} m WHERE m.segment_id = ${params.add(id, 'uuid')} AND m.profile_id = pv.profile_id)`;
  }
  if (isBehaviour(definition)) {
    const column = `a.${aggregates.column(definition)}`;
    if (definition.sum) return numberTestSql(`coalesce(${column}, 0)`, definition.sum, params, 'numeric', microUnits);
    if (definition.first) return ageTestSql(column, definition.first, context.now, params);
    if (definition.last) return ageTestSql(column, definition.last, context.now, params);
    return numberTestSql(`coalesce(${column}, 0)`, definition.count ?? { op: 'gte', value: 1 }, params, 'numeric');
  }
  throw new Error('not a validated segment definition');
}

/**
 * Evaluates several definitions in one statement: one row per profile of `profile_view`, with
 * `profile_id` and a boolean column `s<i>` per definition (in the order given); with `rowVersion`,
 * also `row_version`, the view row's `xmin`. With `onlyProfiles` (a table with a `profile_id`
 * column), only those profiles are evaluated, and only their facts aggregated.
 */
export function compileMembershipMatrix(definitions: readonly SegmentDefinition[], context: SqlContext, options: { rowVersion?: boolean; onlyProfiles?: string } = {}): CompiledQuery {
  const params = new Params();
  const aggregates = new Aggregates(params, context.now);
  const predicates = definitions.map((d, i) => `${predicateSql(d, params, aggregates, context)} AS s${i}`);
  const join = aggregates.size > 0 ? ' LEFT JOIN agg a ON a.profile_id = pv.profile_id' : '';
  const cte = aggregates.cte(context.tables.behaviourFacts, options.onlyProfiles);
  // The view row's version (the transaction that wrote it): a caller applying the result later can skip profiles changed since.
  const version = options.rowVersion ? ', pv.xmin AS row_version' : '';
  const where = options.onlyProfiles ? ` WHERE pv.profile_id IN (SELECT profile_id FROM ${options.onlyProfiles})` : '';
  return { text: `${cte}SELECT pv.profile_id${version}${predicates.map((p) => `, ${p}`).join('')} FROM ${context.tables.profileView} pv${join}${where}`, values: params.values };
}

/**
 * The profiles (`profile_id`, once each) with a fact that crossed one of `boundaries` between the
 * evaluations at `from` and `to` (epoch ms): a fact of the boundary's event that occurred between
 * from − duration and to − duration, both ends included (a superset is harmless; a miss is not).
 * Only these can change membership for time alone (`timeBoundaries`); none when there are none.
 */
export function compileFactsCrossing(boundaries: readonly TimeBoundary[], facts: string, from: number, to: number): CompiledQuery | undefined {
  if (boundaries.length === 0) return undefined;
  const params = new Params();
  const bands = boundaries.map(({ event, duration }) => {
    const d = durationOf(duration);
    const low = params.add(new Date(subtractDuration(from, d)).toISOString(), 'timestamptz');
    const high = params.add(new Date(subtractDuration(to, d)).toISOString(), 'timestamptz');
    return `(f.name = ${params.add(event, 'text')} AND f.occurred_at BETWEEN ${low} AND ${high})`;
  });
  return { text: `SELECT DISTINCT f.profile_id FROM ${facts} f WHERE ${bands.join(' OR ')}`, values: params.values };
}

/** The profile ids in one definition's segment: `SELECT profile_id FROM … WHERE <predicate>`. */
export function compileMembersQuery(definition: SegmentDefinition, context: SqlContext): CompiledQuery {
  const params = new Params();
  const aggregates = new Aggregates(params, context.now);
  const predicate = predicateSql(definition, params, aggregates, context);
  const join = aggregates.size > 0 ? ' LEFT JOIN agg a ON a.profile_id = pv.profile_id' : '';
  const cte = aggregates.cte(context.tables.behaviourFacts);
  return { text: `${cte}SELECT pv.profile_id FROM ${context.tables.profileView} pv${join} WHERE ${predicate}`, values: params.values };
}
