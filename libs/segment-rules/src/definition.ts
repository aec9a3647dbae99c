/**
 * The segment rule language (ARCHITECTURE §6): a JSON tree of `all` / `any` / `not` over trait,
 * feature, behaviour and membership conditions. These types describe a definition that passed
 * `validateDefinition`; anything else is `unknown` until it has.
 */

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'nin', 'contains', 'startsWith', 'exists'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Operators that compare a number (counts, sums) or an age with a duration. */
export const NUMERIC_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export type NumericOperator = (typeof NUMERIC_OPERATORS)[number];
export const AGE_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export type AgeOperator = (typeof AGE_OPERATORS)[number];

export type Scalar = string | number | boolean;

/**
 * A comparison of one JSON value. Semantics, identical in SQL and in memory:
 * - a missing value and JSON `null` are the same: absent;
 * - `eq` is type-strict (`"1"` is not `1`); `neq` is `not eq`, so an absent value is `neq` anything;
 * - `gt`/`gte`/`lt`/`lte`/`between` compare numbers with numbers and strings with strings
 *   (by Unicode code point); a value of another type does not match;
 * - `in` is `eq` to one of the list, `nin` is `not in`;
 * - `contains`: a string that contains the text, or an array with an element `eq` to the value;
 * - `startsWith`: a string that starts with the text;
 * - `exists` (value `true` by default, or `false`): whether the value is present.
 */
export type ValueTest =
  | { op: 'eq' | 'neq' | 'contains'; value: Scalar }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; value: number | string }
  | { op: 'between'; value: [number, number] | [string, string] }
  | { op: 'in' | 'nin'; value: Scalar[] }
  | { op: 'startsWith'; value: string }
  | { op: 'exists'; value?: boolean };

/** `{ "trait": "country", "op": "eq", "value": "DE" }`; a dotted name reads a nested object (`address.city`). */
export type TraitCondition = { trait: string } & ValueTest;
/** `{ "feature": "recency_days", "op": "lte", "value": 30 }` over the computed features. */
export type FeatureCondition = { feature: string } & ValueTest;
/** A filter on the properties of an event: `{ "property": "category", "op": "eq", "value": "cameras" }`. */
export type PropertyFilter = { property: string } & ValueTest;

export type NumberTest = { op: Exclude<NumericOperator, 'between'>; value: number } | { op: 'between'; value: [number, number] };
/** An age compared with an ISO-8601 duration: `{ "op": "lte", "value": "P30D" }` = within the last 30 days. */
export interface AgeTest {
  op: AgeOperator;
  value: string;
}

/**
 * What a customer did: events named `event` whose properties pass every `where` filter, in the
 * last `within` (an ISO-8601 duration) if given. Then at most one of:
 * - `count`: the number of such events (default: at least one);
 * - `sum`: the sum of a numeric property over them (non-numbers ignored; 0 when none), exact to 1e-6;
 * - `first` / `last`: the age of the first or last of them (false when there is none).
 */
export interface BehaviourCondition {
  event: string;
  where?: PropertyFilter[];
  within?: string;
  count?: NumberTest;
  sum?: { property: string } & NumberTest;
  first?: AgeTest;
  last?: AgeTest;
}

/** `{ "inSegment": "vip" }`: a member of another segment, by key. */
export interface MembershipCondition {
  inSegment: string;
}

export interface AllNode {
  all: SegmentDefinition[];
}
export interface AnyNode {
  any: SegmentDefinition[];
}
export interface NotNode {
  not: SegmentDefinition;
}

export type Condition = TraitCondition | FeatureCondition | BehaviourCondition | MembershipCondition;
export type SegmentDefinition = AllNode | AnyNode | NotNode | Condition;

export const isAll = (node: SegmentDefinition): node is AllNode => 'all' in node;
export const isAny = (node: SegmentDefinition): node is AnyNode => 'any' in node;
export const isNot = (node: SegmentDefinition): node is NotNode => 'not' in node;
export const isTrait = (node: SegmentDefinition): node is TraitCondition => 'trait' in node;
export const isFeature = (node: SegmentDefinition): node is FeatureCondition => 'feature' in node;
export const isBehaviour = (node: SegmentDefinition): node is BehaviourCondition => 'event' in node;
export const isMembership = (node: SegmentDefinition): node is MembershipCondition => 'inSegment' in node;

/** A dotted name as the path it reads: `address.city` → `['address', 'city']`. */
export const pathOf = (name: string): string[] => name.split('.');
