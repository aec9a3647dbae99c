import type { ApiErrorDetail } from '@segmenta/contracts';
import { EVENT_FILTER_OPS as FILTER_OPS, type EventPropertyFilter as PropertyFilter } from '@segmenta/segment-rules';
import { SEGMENT_KEY, type Checked } from '../catalog/offer-rules';
import { OFFER_KEY } from '../catalog/offers.dto';
import { durationMs, minutesOfDay, type QuietHours, type ReentryPolicy } from './journey-timing';

/**
 * A journey as a loyalty team defines it (issue 20), checked field by field before it is stored:
 * what starts it, its steps (a graph without cycles, entered at the first step), when a customer
 * leaves it early, whether they may enter again, and the quiet hours no message is sent in.
 */

export const LOYALTY_TRIGGER_EVENTS = ['tier_changed', 'points_expiring'] as const;
export { FILTER_OPS, type PropertyFilter };

export type JourneyTrigger =
  | { type: 'segment_entered'; segment: string }
  | { type: 'segment_exited'; segment: string }
  | { type: 'event'; event: string; where: PropertyFilter[] }
  | { type: 'loyalty'; event: (typeof LOYALTY_TRIGGER_EVENTS)[number]; tier: string | null };

export type BranchCondition = { type: 'redeemed_offer'; offer: string } | { type: 'in_segment'; segment: string } | { type: 'did_event'; event: string };

/** A step; `next` (or a branch's targets) null ends the journey for the customer. */
export type JourneyStep =
  | { id: string; type: 'send'; channel: string; message: Record<string, unknown>; offer: string | null; next: string | null }
  | { id: string; type: 'wait'; duration: string | null; untilTimeOfDay: string | null; next: string | null }
  | { id: string; type: 'branch'; condition: BranchCondition; then: string | null; else: string | null }
  | { id: string; type: 'split'; branches: Array<{ weight: number; next: string | null }> };

export interface JourneyDefinition {
  trigger: JourneyTrigger;
  steps: JourneyStep[];
  /** Leave the journey when leaving the trigger's segment, or on a conversion event (null: none). */
  exit: { leftSegment: boolean; convertedOn: string | null };
  reentry: ReentryPolicy;
  quietHours: QuietHours | null;
}

const STEP_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const CHANNEL_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_STEPS = 100;

type Problems = ApiErrorDetail[];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const eventName = (v: unknown) => typeof v === 'string' && v.trim() !== '' && v.length <= 200;

function unknownFields(input: Record<string, unknown>, allowed: readonly string[], field: string, problems: Problems): void {
  for (const key of Object.keys(input)) if (!allowed.includes(key)) problems.push({ field: `${field}.${key}`, problem: `is not a field here (allowed: ${allowed.join(', ')})` });
}

function segmentKey(value: unknown, field: string, problems: Problems): string {
  if (typeof value === 'string' && value.length <= 100 && SEGMENT_KEY.test(value)) return value;
  problems.push({ field, problem: 'must be a segment key: lower-case letters, digits, - and _' });
  return '';
}

function trigger(input: unknown, problems: Problems): JourneyTrigger {
  const field = 'trigger';
  if (!isObject(input)) {
    problems.push({ field, problem: 'is required: segment_entered, segment_exited, event or loyalty' });
    return { type: 'event', event: '', where: [] };
  }
  switch (input.type) {
    case 'segment_entered':
    case 'segment_exited':
      unknownFields(input, ['type', 'segment'], field, problems);
      return { type: input.type, segment: segmentKey(input.segment, `${field}.segment`, problems) };
    case 'event': {
      unknownFields(input, ['type', 'event', 'where'], field, problems);
      if (!eventName(input.event)) problems.push({ field: `${field}.event`, problem: 'must be the name of a track event (1–200 characters)' });
      const where = input.where === undefined ? [] : Array.isArray(input.where) ? input.where : null;
      if (where === null) problems.push({ field: `${field}.where`, problem: 'must be a list of property filters' });
      return { type: 'event', event: String(input.event ?? ''), where: (where ?? []).map((f, i) => propertyFilter(f, `${field}.where[${i}]`, problems)) };
    }
    case 'loyalty': {
      unknownFields(input, ['type', 'event', 'tier'], field, problems);
      if (!LOYALTY_TRIGGER_EVENTS.includes(input.event as never)) problems.push({ field: `${field}.event`, problem: `must be one of ${LOYALTY_TRIGGER_EVENTS.join(', ')}` });
      if (input.tier !== undefined && input.tier !== null && input.event !== 'tier_changed') problems.push({ field: `${field}.tier`, problem: 'is for tier_changed only (the tier reached)' });
      const tier = input.tier === undefined || input.tier === null ? null : segmentKey(input.tier, `${field}.tier`, problems);
      return { type: 'loyalty', event: input.event as (typeof LOYALTY_TRIGGER_EVENTS)[number], tier };
    }
    default:
      problems.push({ field: `${field}.type`, problem: 'must be one of segment_entered, segment_exited, event, loyalty' });
      return { type: 'event', event: '', where: [] };
  }
}

function propertyFilter(input: unknown, field: string, problems: Problems): PropertyFilter {
  if (!isObject(input)) {
    problems.push({ field, problem: 'must be { property, op, value }' });
    return { property: '', op: 'exists' };
  }
  unknownFields(input, ['property', 'op', 'value'], field, problems);
  if (typeof input.property !== 'string' || input.property === '' || input.property.length > 200) problems.push({ field: `${field}.property`, problem: 'must be a property name' });
  if (!FILTER_OPS.includes(input.op as never)) problems.push({ field: `${field}.op`, problem: `must be one of ${FILTER_OPS.join(', ')}` });
  const scalar = ['string', 'number', 'boolean'].includes(typeof input.value);
  if (input.op === 'exists' && input.value !== undefined) problems.push({ field: `${field}.value`, problem: 'takes no value with exists' });
  if (input.op !== 'exists' && !scalar) problems.push({ field: `${field}.value`, problem: 'must be a string, a number or a boolean' });
  if (['gt', 'gte', 'lt', 'lte'].includes(String(input.op)) && typeof input.value !== 'number') problems.push({ field: `${field}.value`, problem: `must be a number with ${String(input.op)}` });
  return { property: String(input.property ?? ''), op: input.op as PropertyFilter['op'], ...(scalar ? { value: input.value as string | number | boolean } : {}) };
}

/** A step's target: another step's id, or null (the end). */
function target(value: unknown, field: string, problems: Problems): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && STEP_ID.test(value)) return value;
  problems.push({ field, problem: 'must be the id of a step, or null to end the journey' });
  return null;
}

function step(input: unknown, field: string, problems: Problems): JourneyStep | null {
  if (!isObject(input)) {
    problems.push({ field, problem: 'must be a step: { id, type, … }' });
    return null;
  }
  const id = typeof input.id === 'string' && STEP_ID.test(input.id) ? input.id : '';
  if (id === '') problems.push({ field: `${field}.id`, problem: 'must be 1–64 lower-case letters, digits, - and _' });
  switch (input.type) {
    case 'send': {
      unknownFields(input, ['id', 'type', 'channel', 'message', 'offer', 'next'], field, problems);
      if (typeof input.channel !== 'string' || !CHANNEL_KEY.test(input.channel)) problems.push({ field: `${field}.channel`, problem: 'must be a channel key' });
      if (input.message !== undefined && !isObject(input.message)) problems.push({ field: `${field}.message`, problem: 'must be an object (the treatment the receiver gets)' });
      const offer = input.offer === undefined || input.offer === null ? null : typeof input.offer === 'string' && OFFER_KEY.test(input.offer) && input.offer.length <= 100 ? input.offer : '';
      if (offer === '') problems.push({ field: `${field}.offer`, problem: 'must be an offer key' });
      return { id, type: 'send', channel: String(input.channel ?? ''), message: isObject(input.message) ? input.message : {}, offer, next: target(input.next, `${field}.next`, problems) };
    }
    case 'wait': {
      unknownFields(input, ['id', 'type', 'duration', 'untilTimeOfDay', 'next'], field, problems);
      const duration = input.duration === undefined || input.duration === null ? null : input.duration;
      const until = input.untilTimeOfDay === undefined || input.untilTimeOfDay === null ? null : input.untilTimeOfDay;
      if ((duration === null) === (until === null)) problems.push({ field, problem: 'a wait has either duration (ISO 8601, e.g. P3D) or untilTimeOfDay (HH:MM in the customer’s time zone)' });
      if (duration !== null && durationMs(duration) === undefined)
        problems.push({ field: `${field}.duration`, problem: 'must be an ISO 8601 duration of weeks, days, hours, minutes or seconds, e.g. P3D or PT12H' });
      if (until !== null && minutesOfDay(until) === undefined) problems.push({ field: `${field}.untilTimeOfDay`, problem: 'must be a time of day, HH:MM' });
      return {
        id,
        type: 'wait',
        duration: typeof duration === 'string' ? duration : null,
        untilTimeOfDay: typeof until === 'string' ? until : null,
        next: target(input.next, `${field}.next`, problems),
      };
    }
    case 'branch': {
      unknownFields(input, ['id', 'type', 'condition', 'then', 'else'], field, problems);
      return {
        id,
        type: 'branch',
        condition: condition(input.condition, `${field}.condition`, problems),
        then: target(input.then, `${field}.then`, problems),
        else: target(input.else, `${field}.else`, problems),
      };
    }
    case 'split': {
      unknownFields(input, ['id', 'type', 'branches'], field, problems);
      const branches = Array.isArray(input.branches) ? input.branches : [];
      if (branches.length < 2 || branches.length > 10) problems.push({ field: `${field}.branches`, problem: 'must hold 2 to 10 branches' });
      const parsed = branches.map((b, i) => {
        const weight = isObject(b) ? b.weight : undefined;
        if (typeof weight !== 'number' || !(weight >= 0) || weight > 1000) problems.push({ field: `${field}.branches[${i}].weight`, problem: 'must be a number from 0 to 1000' });
        return { weight: typeof weight === 'number' ? weight : 0, next: target(isObject(b) ? b.next : undefined, `${field}.branches[${i}].next`, problems) };
      });
      if (parsed.length >= 2 && parsed.every((b) => b.weight === 0)) problems.push({ field: `${field}.branches`, problem: 'needs a branch with a weight above 0' });
      return { id, type: 'split', branches: parsed };
    }
    default:
      problems.push({ field: `${field}.type`, problem: 'must be one of send, wait, branch, split' });
      return null;
  }
}

function condition(input: unknown, field: string, problems: Problems): BranchCondition {
  if (!isObject(input)) {
    problems.push({ field, problem: 'is required: redeemed_offer, in_segment or did_event' });
    return { type: 'did_event', event: '' };
  }
  switch (input.type) {
    case 'redeemed_offer':
      unknownFields(input, ['type', 'offer'], field, problems);
      if (typeof input.offer !== 'string' || !OFFER_KEY.test(input.offer)) problems.push({ field: `${field}.offer`, problem: 'must be an offer key' });
      return { type: 'redeemed_offer', offer: String(input.offer ?? '') };
    case 'in_segment':
      unknownFields(input, ['type', 'segment'], field, problems);
      return { type: 'in_segment', segment: segmentKey(input.segment, `${field}.segment`, problems) };
    case 'did_event':
      unknownFields(input, ['type', 'event'], field, problems);
      if (!eventName(input.event)) problems.push({ field: `${field}.event`, problem: 'must be the name of a track event (done since entering the journey)' });
      return { type: 'did_event', event: String(input.event ?? '') };
    default:
      problems.push({ field: `${field}.type`, problem: 'must be one of redeemed_offer, in_segment, did_event' });
      return { type: 'did_event', event: '' };
  }
}

/** The ids a step leads to. */
export function targetsOf(s: JourneyStep): Array<string | null> {
  switch (s.type) {
    case 'send':
    case 'wait':
      return [s.next];
    case 'branch':
      return [s.then, s.else];
    case 'split':
      return s.branches.map((b) => b.next);
  }
}

/** Steps form a graph entered at the first: every target exists, every step is reachable, and no path loops. */
function checkGraph(steps: JourneyStep[], problems: Problems): void {
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (s.id === '') return;
    if (index.has(s.id)) problems.push({ field: `steps[${i}].id`, problem: `repeats the id of steps[${index.get(s.id)}]` });
    else index.set(s.id, i);
  });
  steps.forEach((s, i) =>
    targetsOf(s).forEach((t) => {
      if (t !== null && !index.has(t)) problems.push({ field: `steps[${i}]`, problem: `leads to ${t}, which is no step of this journey` });
    }),
  );
  if (problems.length > 0 || steps.length === 0) return;
  // Depth-first from the first step: a step met again on the current path is a loop.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): boolean => {
    if (state.get(id) === 'done') return true;
    if (state.get(id) === 'open') {
      problems.push({ field: `steps[${index.get(id)}]`, problem: `is part of a loop (${[...path.slice(path.indexOf(id)), id].join(' → ')}): a journey runs each step at most once per entry` });
      return false;
    }
    state.set(id, 'open');
    for (const t of targetsOf(steps[index.get(id) as number])) if (t !== null && !visit(t, [...path, id])) return false;
    state.set(id, 'done');
    return true;
  };
  if (!visit(steps[0].id, [])) return;
  steps.forEach((s, i) => {
    if (!state.has(s.id)) problems.push({ field: `steps[${i}]`, problem: `cannot be reached from the first step (${steps[0].id})` });
  });
}

/** Checks a journey's definition; every problem comes with the path of its field. */
export function validateJourneyDefinition(input: unknown): Checked<JourneyDefinition> {
  const problems: Problems = [];
  if (!isObject(input)) return { ok: false, problems: [{ field: 'definition', problem: 'must be an object' }] };
  const parsedTrigger = trigger(input.trigger, problems);
  const rawSteps = Array.isArray(input.steps) ? input.steps : null;
  if (rawSteps === null || rawSteps.length === 0 || rawSteps.length > MAX_STEPS)
    problems.push({ field: 'steps', problem: `must be a list of 1 to ${MAX_STEPS} steps; the first is where a customer enters` });
  const steps = (rawSteps ?? []).flatMap((s, i) => {
    const parsed = step(s, `steps[${i}]`, problems);
    return parsed ? [parsed] : [];
  });
  if (steps.length === (rawSteps ?? []).length) checkGraph(steps, problems);

  const exitInput = input.exit === undefined ? {} : input.exit;
  const exit = { leftSegment: false, convertedOn: null as string | null };
  if (!isObject(exitInput)) problems.push({ field: 'exit', problem: 'must be { leftSegment, convertedOn }' });
  else {
    unknownFields(exitInput, ['leftSegment', 'convertedOn'], 'exit', problems);
    if (exitInput.leftSegment !== undefined && typeof exitInput.leftSegment !== 'boolean') problems.push({ field: 'exit.leftSegment', problem: 'must be true or false' });
    exit.leftSegment = exitInput.leftSegment === true;
    if (exit.leftSegment && parsedTrigger.type !== 'segment_entered') problems.push({ field: 'exit.leftSegment', problem: 'needs a segment_entered trigger (the segment to leave)' });
    if (exitInput.convertedOn !== undefined && exitInput.convertedOn !== null && !eventName(exitInput.convertedOn))
      problems.push({ field: 'exit.convertedOn', problem: 'must be the name of a track event' });
    exit.convertedOn = typeof exitInput.convertedOn === 'string' ? exitInput.convertedOn : null;
  }

  let reentry: ReentryPolicy = { policy: 'never' };
  if (input.reentry !== undefined) {
    const r = input.reentry;
    if (isObject(r) && r.policy === 'never') reentry = { policy: 'never' };
    else if (isObject(r) && r.policy === 'after' && Number.isInteger(r.days) && (r.days as number) >= 1 && (r.days as number) <= 3650) reentry = { policy: 'after', days: r.days as number };
    else problems.push({ field: 'reentry', problem: 'must be { "policy": "never" } or { "policy": "after", "days": 1–3650 }' });
  }

  let quietHours: QuietHours | null = null;
  if (input.quietHours !== undefined && input.quietHours !== null) {
    const q = input.quietHours;
    if (isObject(q) && minutesOfDay(q.start) !== undefined && minutesOfDay(q.end) !== undefined && q.start !== q.end) quietHours = { start: q.start as string, end: q.end as string };
    else problems.push({ field: 'quietHours', problem: 'must be { "start": "HH:MM", "end": "HH:MM" } in the customer’s time zone, start and end apart (22:00 to 08:00 spans midnight)' });
  }
  for (const key of Object.keys(input)) if (!['trigger', 'steps', 'exit', 'reentry', 'quietHours'].includes(key)) problems.push({ field: key, problem: 'is not a field of a journey definition' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { trigger: parsedTrigger, steps, exit, reentry, quietHours } };
}

/** The segments a journey reads (its trigger, its branches): announced so segmentation keeps them. */
export function journeySegmentKeys(definition: JourneyDefinition): string[] {
  const keys = new Set<string>();
  if (definition.trigger.type === 'segment_entered' || definition.trigger.type === 'segment_exited') keys.add(definition.trigger.segment);
  for (const s of definition.steps) if (s.type === 'branch' && s.condition.type === 'in_segment') keys.add(s.condition.segment);
  return [...keys].sort();
}

/** The offers a journey sends or asks about. */
export function journeyOfferKeys(definition: JourneyDefinition): string[] {
  const keys = new Set<string>();
  for (const s of definition.steps) {
    if (s.type === 'send' && s.offer !== null) keys.add(s.offer);
    if (s.type === 'branch' && s.condition.type === 'redeemed_offer') keys.add(s.condition.offer);
  }
  return [...keys].sort();
}
