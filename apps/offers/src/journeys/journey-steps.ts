import type { BranchCondition, JourneyDefinition, JourneyStep } from './journey-definition';
import { afterQuietHours, durationMs, frequencyCapVerdict, nextTimeOfDay, splitBranch, type FrequencyCap } from './journey-timing';

/**
 * What one enrollment does when it is due (issue 20), pure: the steps it runs now, in order, up to
 * the next wait, a send held by quiet hours, or the end. The executor stores the result in one
 * transaction; nothing here reads a clock or a table.
 */

export type StepOutcome = 'sent' | 'skipped' | 'waited' | 'branched' | 'split';

export interface EnrollmentState {
  id: string;
  journeyKey: string;
  version: number;
  profileId: string;
  /** The step to run; null: the journey ends when this is due (a final wait). */
  stepId: string | null;
  enteredAt: Date;
  /** Track events done since entering. */
  events: readonly string[];
}

export interface StepRun {
  stepId: string;
  outcome: StepOutcome;
  detail: string | null;
}

export interface StepSend {
  stepId: string;
  channel: string;
  message: Record<string, unknown>;
  offer: string | null;
}

export type EnrollmentNext = { status: 'active'; stepId: string | null; dueAt: Date } | { status: 'completed'; reason: string };

export interface Advance {
  runs: StepRun[];
  sends: StepSend[];
  next: EnrollmentNext;
}

/** What the steps read about the customer and the platform, as of `now`. */
export interface StepContext {
  now: Date;
  timeZone: string;
  /** A channel's caps; undefined when no such channel exists. */
  channelCaps(channel: string): FrequencyCap | undefined;
  /** The customer's sends on a channel so far (the executor adds each send it decides). */
  sentOn(channel: string): Date[];
  inSegment(segmentKey: string): boolean;
  /** Whether the customer redeemed the offer since entering. */
  redeemedSinceEntry(offerKey: string): boolean;
}

function conditionHolds(condition: BranchCondition, enrollment: EnrollmentState, context: StepContext): boolean {
  switch (condition.type) {
    case 'redeemed_offer':
      return context.redeemedSinceEntry(condition.offer);
    case 'in_segment':
      return context.inSegment(condition.segment);
    case 'did_event':
      return enrollment.events.includes(condition.event);
  }
}

/** A send step's verdict: held until quiet hours end, skipped (no channel, capped), or sent. */
function send(step: Extract<JourneyStep, { type: 'send' }>, definition: JourneyDefinition, context: StepContext): { hold: Date } | StepRun {
  const heldUntil = afterQuietHours(context.now, definition.quietHours, context.timeZone);
  if (heldUntil.getTime() > context.now.getTime()) return { hold: heldUntil };
  const caps = context.channelCaps(step.channel);
  if (caps === undefined) return { stepId: step.id, outcome: 'skipped', detail: `channel ${step.channel} does not exist` };
  const sent = context.sentOn(step.channel);
  const verdict = frequencyCapVerdict(sent, caps, context.now);
  if (!verdict.allowed) return { stepId: step.id, outcome: 'skipped', detail: verdict.reason };
  sent.push(context.now);
  return { stepId: step.id, outcome: 'sent', detail: null };
}

/** Runs the enrollment's due steps; a journey has no loops, so each step runs at most once per enrollment. */
export function advanceEnrollment(enrollment: EnrollmentState, definition: JourneyDefinition, context: StepContext): Advance {
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  const runs: StepRun[] = [];
  const sends: StepSend[] = [];
  let current = enrollment.stepId;
  // Bounded by the number of steps: the graph has no cycles (checked when it was saved).
  for (let guard = 0; guard <= definition.steps.length; guard += 1) {
    if (current === null) return { runs, sends, next: { status: 'completed', reason: 'reached the end' } };
    const step = byId.get(current);
    if (step === undefined) return { runs, sends, next: { status: 'completed', reason: `step ${current} is not in version ${enrollment.version}` } };
    switch (step.type) {
      case 'send': {
        const verdict = send(step, definition, context);
        if ('hold' in verdict) return { runs, sends, next: { status: 'active', stepId: step.id, dueAt: verdict.hold } };
        runs.push(verdict);
        if (verdict.outcome === 'sent') sends.push({ stepId: step.id, channel: step.channel, message: step.message, offer: step.offer });
        current = step.next;
        break;
      }
      case 'wait': {
        const ms = step.duration === null ? undefined : durationMs(step.duration);
        const dueAt = ms !== undefined ? new Date(context.now.getTime() + ms) : nextTimeOfDay(context.now, step.untilTimeOfDay as string, context.timeZone);
        runs.push({ stepId: step.id, outcome: 'waited', detail: `until ${dueAt.toISOString()}` });
        return { runs, sends, next: { status: 'active', stepId: step.next, dueAt } };
      }
      case 'branch': {
        const holds = conditionHolds(step.condition, enrollment, context);
        runs.push({ stepId: step.id, outcome: 'branched', detail: holds ? 'then' : 'else' });
        current = holds ? step.then : step.else;
        break;
      }
      case 'split': {
        const branch = splitBranch(
          enrollment.id,
          step.id,
          step.branches.map((b) => b.weight),
        );
        runs.push({ stepId: step.id, outcome: 'split', detail: `branch ${branch + 1}` });
        current = step.branches[branch].next;
        break;
      }
    }
  }
  throw new Error(`journey ${enrollment.journeyKey} v${enrollment.version} loops: it was saved unchecked`);
}
