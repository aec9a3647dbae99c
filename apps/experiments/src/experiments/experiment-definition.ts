import type { ApiErrorDetail } from '@segmenta/contracts';

/**
 * An experiment as a growth team defines it (issue 21), checked field by field before it is stored:
 * who may enter (segments, a traffic share, a namespace), the variants with their weights and what
 * each one changes (offers, a journey branch, or a payload for an app), and the metrics it is
 * judged on. Assignment follows GrowthBook (hash v2 of seed and customer id, range bucketing).
 */

export const METRIC_TYPES = ['conversion', 'revenue', 'net_revenue', 'retention', 'redemption'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export interface ExperimentMetric {
  key: string;
  type: MetricType;
  /** conversion: the track event (with property filters); retention: the event that counts as active (null: any track event). */
  event: string | null;
  /** Filters on the event's properties (conversion, retention) or on the redemption (redemption: offerKey, rewardType, code, orderId). */
  where: Array<{ property: string; op: 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'exists'; value?: string | number | boolean }>;
  /** conversion, revenue, redemption: counted within this many days after exposure; retention: active from day N after exposure. */
  days: number;
  /** retention: how many days from day N the customer has to be active in (7 by default: "active in the week after day N"). */
  windowDays?: number;
  /** A guardrail warns when it moves the wrong way instead of deciding the winner. */
  guardrail: boolean;
  /** The direction that is good: up (conversions, revenue) or down (refunds as a guardrail). */
  goodDirection: 'up' | 'down';
}

export interface ExperimentVariant {
  key: string;
  name: string;
  weight: number;
  /** Offers this variant serves in the targeted placement (empty: none, the control's plain experience). */
  offers: string[];
  /** The branch of a journey's random split this variant takes (journey key and split step id), if any. */
  journeyBranch: { journey: string; step: string; branch: number } | null;
  /** What an app gets for this variant (free JSON). */
  payload: Record<string, unknown> | null;
}

export interface ExperimentTargeting {
  /** Customers in any of these segments (none: everyone). */
  segments: string[];
  /** The share of eligible customers in the experiment, 0–1 (GrowthBook's coverage): raising it only adds customers. */
  trafficShare: number;
  /** The offers placement where the variants' offers are served, if they are offers. */
  placement: string | null;
  /** A GrowthBook namespace: experiments in one namespace with disjoint ranges never share a customer. */
  namespace: { id: string; start: number; end: number } | null;
}

/**
 * How traffic is split: by the variants' fixed weights, or by a Thompson-sampling bandit (issue 22)
 * that moves each targeted segment's traffic toward the variant doing best on `metric`, never giving
 * a variant less than `floor`, recomputed every `cadenceMinutes`.
 */
export type ExperimentAllocation = { type: 'fixed' } | { type: 'bandit'; metric: string; floor: number; cadenceMinutes: number };

export interface ExperimentDefinition {
  hypothesis: string;
  targeting: ExperimentTargeting;
  variants: ExperimentVariant[];
  metrics: ExperimentMetric[];
  /** The hashing seed (GrowthBook's `seed`); the experiment's key when not given. */
  seed: string;
  allocation: ExperimentAllocation;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: ApiErrorDetail[] };

const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** A retention metric's default window: active in the week from day N after exposure. */
export const RETENTION_WINDOW_DAYS = 7;
const SEGMENT_KEY = /^[a-z0-9][a-z0-9_-]*$/;
const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'] as const;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownFields(input: Record<string, unknown>, allowed: readonly string[], field: string, problems: ApiErrorDetail[]): void {
  for (const key of Object.keys(input)) if (!allowed.includes(key)) problems.push({ field: field === '' ? key : `${field}.${key}`, problem: `is not a field here (allowed: ${allowed.join(', ')})` });
}

function targeting(input: unknown, problems: ApiErrorDetail[]): ExperimentTargeting {
  const value: ExperimentTargeting = { segments: [], trafficShare: 1, placement: null, namespace: null };
  if (input === undefined) return value;
  if (!isObject(input)) {
    problems.push({ field: 'targeting', problem: 'must be { segments, trafficShare, placement, namespace }' });
    return value;
  }
  unknownFields(input, ['segments', 'trafficShare', 'placement', 'namespace'], 'targeting', problems);
  if (input.segments !== undefined) {
    if (!Array.isArray(input.segments) || input.segments.length > 50) problems.push({ field: 'targeting.segments', problem: 'must be a list of up to 50 segment keys' });
    else
      input.segments.forEach((s, i) => {
        if (typeof s === 'string' && s.length <= 100 && SEGMENT_KEY.test(s)) value.segments.push(s);
        else problems.push({ field: `targeting.segments[${i}]`, problem: 'must be a segment key: lower-case letters, digits, - and _' });
      });
  }
  if (input.trafficShare !== undefined) {
    if (typeof input.trafficShare !== 'number' || !(input.trafficShare > 0) || input.trafficShare > 1)
      problems.push({ field: 'targeting.trafficShare', problem: 'must be a share above 0 and at most 1' });
    else value.trafficShare = input.trafficShare;
  }
  if (input.placement !== undefined && input.placement !== null) {
    if (typeof input.placement !== 'string' || !/^[a-z][a-z0-9_]{0,39}$/.test(input.placement)) problems.push({ field: 'targeting.placement', problem: 'must be an offers placement name' });
    else value.placement = input.placement;
  }
  if (input.namespace !== undefined && input.namespace !== null) {
    const ns = input.namespace;
    if (!isObject(ns) || typeof ns.id !== 'string' || !KEY.test(ns.id) || typeof ns.start !== 'number' || typeof ns.end !== 'number' || !(ns.start >= 0) || !(ns.end <= 1) || !(ns.start < ns.end))
      problems.push({ field: 'targeting.namespace', problem: 'must be { "id": "<key>", "start": 0–1, "end": 0–1 } with start below end' });
    else value.namespace = { id: ns.id, start: ns.start, end: ns.end };
  }
  return value;
}

function variant(input: unknown, field: string, problems: ApiErrorDetail[]): ExperimentVariant {
  const value: ExperimentVariant = { key: '', name: '', weight: 0, offers: [], journeyBranch: null, payload: null };
  if (!isObject(input)) {
    problems.push({ field, problem: 'must be a variant: { key, name, weight, offers, journeyBranch, payload }' });
    return value;
  }
  unknownFields(input, ['key', 'name', 'weight', 'offers', 'journeyBranch', 'payload'], field, problems);
  if (typeof input.key !== 'string' || !KEY.test(input.key)) problems.push({ field: `${field}.key`, problem: 'must be 1–64 lower-case letters, digits, - and _' });
  else value.key = input.key;
  value.name = typeof input.name === 'string' && input.name.trim() !== '' && input.name.length <= 200 ? input.name : value.key;
  if (input.name !== undefined && value.name !== input.name) problems.push({ field: `${field}.name`, problem: 'must be 1–200 characters' });
  if (typeof input.weight !== 'number' || !(input.weight >= 0) || input.weight > 1) problems.push({ field: `${field}.weight`, problem: 'must be a share from 0 to 1; the weights add up to 1' });
  else value.weight = input.weight;
  if (input.offers !== undefined) {
    if (!Array.isArray(input.offers) || input.offers.length > 20) problems.push({ field: `${field}.offers`, problem: 'must be a list of up to 20 offer keys' });
    else
      input.offers.forEach((o, i) => {
        if (typeof o === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(o) && o.length <= 100) value.offers.push(o);
        else problems.push({ field: `${field}.offers[${i}]`, problem: 'must be an offer key' });
      });
  }
  if (input.journeyBranch !== undefined && input.journeyBranch !== null) {
    const b = input.journeyBranch;
    if (!isObject(b) || typeof b.journey !== 'string' || !KEY.test(b.journey) || typeof b.step !== 'string' || !KEY.test(b.step) || !Number.isInteger(b.branch) || (b.branch as number) < 1)
      problems.push({ field: `${field}.journeyBranch`, problem: 'must be { "journey": "<key>", "step": "<split step id>", "branch": 1… }' });
    else value.journeyBranch = { journey: b.journey, step: b.step, branch: b.branch as number };
  }
  if (input.payload !== undefined && input.payload !== null) {
    if (!isObject(input.payload) || JSON.stringify(input.payload).length > 10_000) problems.push({ field: `${field}.payload`, problem: 'must be a JSON object of at most 10,000 characters' });
    else value.payload = input.payload;
  }
  return value;
}

function metric(input: unknown, field: string, problems: ApiErrorDetail[]): ExperimentMetric {
  const value: ExperimentMetric = { key: '', type: 'conversion', event: null, where: [], days: 14, guardrail: false, goodDirection: 'up' };
  if (!isObject(input)) {
    problems.push({ field, problem: 'must be a metric: { key, type, event, where, days, guardrail, goodDirection }' });
    return value;
  }
  unknownFields(input, ['key', 'type', 'event', 'where', 'days', 'windowDays', 'guardrail', 'goodDirection'], field, problems);
  if (typeof input.key !== 'string' || !KEY.test(input.key)) problems.push({ field: `${field}.key`, problem: 'must be 1–64 lower-case letters, digits, - and _' });
  else value.key = input.key;
  if (!METRIC_TYPES.includes(input.type as MetricType)) problems.push({ field: `${field}.type`, problem: `must be one of ${METRIC_TYPES.join(', ')}` });
  else value.type = input.type as MetricType;
  const eventName = (v: unknown) => typeof v === 'string' && v.trim() !== '' && v.length <= 200;
  if (value.type === 'conversion') {
    if (!eventName(input.event)) problems.push({ field: `${field}.event`, problem: 'a conversion metric needs the name of its track event' });
    else value.event = input.event as string;
  } else if (value.type === 'retention') {
    if (input.event !== undefined && input.event !== null && !eventName(input.event))
      problems.push({ field: `${field}.event`, problem: 'must be the name of the track event that counts as active (leave it out: any track event)' });
    else value.event = (input.event as string | undefined) ?? null;
  } else if (input.event !== undefined && input.event !== null) problems.push({ field: `${field}.event`, problem: `is for conversion and retention metrics (${value.type} has its own events)` });
  if ((value.type === 'revenue' || value.type === 'net_revenue') && input.where !== undefined && Array.isArray(input.where) && input.where.length > 0)
    problems.push({ field: `${field}.where`, problem: `${value.type} counts every order, refund and reward; filter with a conversion metric instead` });
  if (input.windowDays !== undefined) {
    if (value.type !== 'retention') problems.push({ field: `${field}.windowDays`, problem: 'is for retention metrics' });
    else if (!Number.isInteger(input.windowDays) || (input.windowDays as number) < 1 || (input.windowDays as number) > 90)
      problems.push({ field: `${field}.windowDays`, problem: 'must be a whole number of days from 1 to 90' });
  }
  if (value.type === 'retention') value.windowDays = Number.isInteger(input.windowDays) ? (input.windowDays as number) : RETENTION_WINDOW_DAYS;
  if (input.where !== undefined) {
    if (!Array.isArray(input.where) || input.where.length > 20) problems.push({ field: `${field}.where`, problem: 'must be a list of up to 20 property filters' });
    else
      input.where.forEach((f, i) => {
        const ok =
          isObject(f) &&
          typeof f.property === 'string' &&
          f.property !== '' &&
          FILTER_OPS.includes(f.op as never) &&
          (f.op === 'exists' ? f.value === undefined : ['string', 'number', 'boolean'].includes(typeof f.value));
        if (!ok) problems.push({ field: `${field}.where[${i}]`, problem: `must be { property, op (${FILTER_OPS.join(', ')}), value }` });
        else
          value.where.push({ property: f.property as string, op: f.op as ExperimentMetric['where'][number]['op'], ...(f.value === undefined ? {} : { value: f.value as string | number | boolean }) });
      });
  }
  if (input.days !== undefined) {
    if (!Number.isInteger(input.days) || (input.days as number) < 1 || (input.days as number) > 365) problems.push({ field: `${field}.days`, problem: 'must be a whole number of days from 1 to 365' });
    else value.days = input.days as number;
  }
  if (input.guardrail !== undefined && typeof input.guardrail !== 'boolean') problems.push({ field: `${field}.guardrail`, problem: 'must be true or false' });
  value.guardrail = input.guardrail === true;
  if (input.goodDirection !== undefined && input.goodDirection !== 'up' && input.goodDirection !== 'down') problems.push({ field: `${field}.goodDirection`, problem: 'must be up or down' });
  value.goodDirection = input.goodDirection === 'down' ? 'down' : 'up';
  return value;
}

/** Checks an experiment's definition; every problem comes with the path of its field. `key` is the default seed. */
export function validateExperimentDefinition(input: unknown, key: string): Checked<ExperimentDefinition> {
  const problems: ApiErrorDetail[] = [];
  if (!isObject(input)) return { ok: false, problems: [{ field: 'definition', problem: 'must be an object' }] };
  unknownFields(input, ['hypothesis', 'targeting', 'variants', 'metrics', 'seed', 'allocation'], '', problems);
  const hypothesis = typeof input.hypothesis === 'string' ? input.hypothesis : '';
  if (input.hypothesis !== undefined && (typeof input.hypothesis !== 'string' || input.hypothesis.length > 2000))
    problems.push({ field: 'hypothesis', problem: 'must be text of at most 2,000 characters' });
  const target = targeting(input.targeting, problems);
  const rawVariants = Array.isArray(input.variants) ? input.variants : null;
  if (rawVariants === null || rawVariants.length < 2 || rawVariants.length > 10) problems.push({ field: 'variants', problem: 'must be a list of 2 to 10 variants; the first is the control' });
  const variants = (rawVariants ?? []).map((v, i) => variant(v, `variants[${i}]`, problems));
  const seen = new Map<string, number>();
  variants.forEach((v, i) => {
    if (v.key === '') return;
    if (seen.has(v.key)) problems.push({ field: `variants[${i}].key`, problem: `repeats the key of variants[${seen.get(v.key)}]` });
    else seen.set(v.key, i);
  });
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  if (variants.length >= 2 && Math.abs(total - 1) > 0.001) problems.push({ field: 'variants', problem: `the weights add up to ${Number(total.toFixed(4))}; they must add up to 1` });
  const rawMetrics = input.metrics === undefined ? [] : Array.isArray(input.metrics) ? input.metrics : null;
  if (rawMetrics === null || rawMetrics.length > 20) problems.push({ field: 'metrics', problem: 'must be a list of up to 20 metrics' });
  const metrics = (rawMetrics ?? []).map((m, i) => metric(m, `metrics[${i}]`, problems));
  const metricKeys = new Set<string>();
  metrics.forEach((m, i) => {
    if (m.key !== '' && metricKeys.has(m.key)) problems.push({ field: `metrics[${i}].key`, problem: 'repeats another metric’s key' });
    metricKeys.add(m.key);
  });
  let seed = key;
  if (input.seed !== undefined) {
    if (typeof input.seed !== 'string' || input.seed === '' || input.seed.length > 200) problems.push({ field: 'seed', problem: 'must be 1–200 characters' });
    else seed = input.seed;
  }
  // A journey split follows the experiment only when every variant names a branch of the same split.
  const branches = variants.filter((v) => v.journeyBranch !== null);
  if (branches.length > 0) {
    const first = branches[0].journeyBranch as NonNullable<ExperimentVariant['journeyBranch']>;
    variants.forEach((v, i) => {
      if (v.journeyBranch === null) problems.push({ field: `variants[${i}].journeyBranch`, problem: 'is required: when one variant takes a journey split’s branch, every variant does' });
      else if (v.journeyBranch.journey !== first.journey || v.journeyBranch.step !== first.step)
        problems.push({ field: `variants[${i}].journeyBranch`, problem: `must name the same journey and split step as the others (${first.journey}, ${first.step})` });
    });
  }
  if (target.placement !== null && variants.every((v) => v.offers.length === 0)) problems.push({ field: 'targeting.placement', problem: 'needs a variant with offers to serve there' });
  if (variants.some((v) => v.offers.length > 0) && target.placement === null)
    problems.push({ field: 'targeting.placement', problem: 'is required when variants serve offers (the placement they are served in)' });
  const allocated = allocation(input.allocation, metrics, variants.length, target, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { hypothesis, targeting: target, variants, metrics, seed, allocation: allocated } };
}

function allocation(input: unknown, metrics: ExperimentMetric[], variants: number, target: ExperimentTargeting, problems: ApiErrorDetail[]): ExperimentAllocation {
  if (input === undefined || input === null) return { type: 'fixed' };
  if (!isObject(input) || (input.type !== 'fixed' && input.type !== 'bandit')) {
    problems.push({ field: 'allocation', problem: 'must be { "type": "fixed" } or { "type": "bandit", "metric": "<metric key>", "floor": 0.05, "cadenceMinutes": 60 }' });
    return { type: 'fixed' };
  }
  if (input.type === 'fixed') {
    unknownFields(input, ['type'], 'allocation', problems);
    return { type: 'fixed' };
  }
  unknownFields(input, ['type', 'metric', 'floor', 'cadenceMinutes'], 'allocation', problems);
  const metric = metrics.find((m) => m.key === input.metric);
  if (metric === undefined || metric.guardrail)
    problems.push({ field: 'allocation.metric', problem: 'must be the key of one of the experiment’s metrics (not a guardrail): the bandit favours the variant doing best on it' });
  else if (metric.goodDirection === 'down') problems.push({ field: 'allocation.metric', problem: 'must be a metric whose good direction is up' });
  const floor = input.floor ?? 0.05;
  if (typeof floor !== 'number' || !(floor >= 0) || floor > 1 / Math.max(variants, 1))
    problems.push({ field: 'allocation.floor', problem: `must be a share from 0 to 1/${variants} (every variant keeps at least this much traffic)` });
  const cadence = input.cadenceMinutes ?? 60;
  if (!Number.isInteger(cadence) || (cadence as number) < 1 || (cadence as number) > 10_080)
    problems.push({ field: 'allocation.cadenceMinutes', problem: 'must be a whole number of minutes from 1 to 10,080 (a week)' });
  if (target.segments.length === 0) problems.push({ field: 'targeting.segments', problem: 'a bandit shifts traffic within segments: name at least one' });
  return { type: 'bandit', metric: String(input.metric), floor: Number(floor), cadenceMinutes: Number(cadence) };
}

/** The segments an experiment targets: announced (experiments.segment-references) so segmentation keeps them. */
export function experimentSegmentKeys(definition: ExperimentDefinition): string[] {
  return [...new Set(definition.targeting.segments)].sort();
}
