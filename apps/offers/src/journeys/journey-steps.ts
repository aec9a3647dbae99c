import type { ExperimentChangedV1, ServedExperimentV1 } from '@segmenta/contracts';
import { assignmentOf } from '../personalization/experiment-offers';
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

/** A customer a split sent down their variant's branch of a running experiment: an exposure the executor announces (journeys.exposed). */
export interface SplitExposure {
  stepId: string;
  /** 1-based, as experiments name branches. */
  branch: number;
  experiment: ServedExperimentV1;
}

export interface Advance {
  runs: StepRun[];
  sends: StepSend[];
  exposures: SplitExposure[];
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
  /** Running experiments whose variants take branches of journey splits (experiments.changed): a split they name follows them. */
  splitExperiments: readonly ExperimentChangedV1[];
  /** The customer is held out of the programme (issue 22): they are sent nothing. */
  heldOut?: boolean;
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
  if (context.heldOut) return { stepId: step.id, outcome: 'skipped', detail: 'held out of the programme: no treatments' };
  const caps = context.channelCaps(step.channel);
  if (caps === undefined) return { stepId: step.id, outcome: 'skipped', detail: `channel ${step.channel} does not exist` };
  const sent = context.sentOn(step.channel);
  const verdict = frequencyCapVerdict(sent, caps, context.now);
  if (!verdict.allowed) return { stepId: step.id, outcome: 'skipped', detail: verdict.reason };
  sent.push(context.now);
  return { stepId: step.id, outcome: 'sent', detail: null };
}

type SplitStep = Extract<JourneyStep, { type: 'split' }>;

/** The running experiment whose variants take this split's branches; the first one given when several do. */
export function experimentOnSplit(experiments: readonly ExperimentChangedV1[], journeyKey: string, stepId: string): ExperimentChangedV1 | undefined {
  return experiments.find((e) => e.status === 'running' && e.variants.some((v) => v.journeyBranch?.journey === journeyKey && v.journeyBranch.step === stepId));
}

/**
 * The branch (0-based) a split sends an enrollment down, and why. Under a running experiment that
 * names the split, the customer (not the enrollment: a re-entry gets the same variant) is assigned as
 * offers assigns placements: in it, their variant's branch and an exposure; not targeted or outside
 * its traffic or namespace, the control's branch and no exposure. Without one, or when the variant
 * names a branch the split does not have, the random split by weight.
 */
export function splitChoice(enrollment: EnrollmentState, step: SplitStep, context: StepContext): { branch: number; detail: string; exposure: ServedExperimentV1 | null } {
  const random = () =>
    splitBranch(
      enrollment.id,
      step.id,
      step.branches.map((b) => b.weight),
    );
  const experiment = experimentOnSplit(context.splitExperiments, enrollment.journeyKey, step.id);
  if (experiment === undefined) {
    const branch = random();
    return { branch, detail: `branch ${branch + 1}`, exposure: null };
  }
  const targeted = experiment.segments.length === 0 || experiment.segments.some((segment) => context.inSegment(segment));
  const assigned = targeted ? assignmentOf(experiment)(enrollment.profileId) : undefined;
  const variant = assigned?.inExperiment ? experiment.variants[assigned.variant] : experiment.variants[0];
  const why =
    assigned === undefined
      ? 'not targeted, the control’s branch'
      : assigned.inExperiment
        ? `variant ${variant.key}`
        : `outside its ${assigned.reason === 'traffic' ? 'traffic share' : 'namespace'}, the control’s branch`;
  const named = variant.journeyBranch?.journey === enrollment.journeyKey && variant.journeyBranch.step === step.id ? variant.journeyBranch.branch : undefined;
  if (named === undefined || !Number.isInteger(named) || named < 1 || named > step.branches.length) {
    const branch = random();
    const asked = named === undefined ? 'no branch of this split' : `branch ${named} of ${step.branches.length}`;
    return { branch, detail: `branch ${branch + 1} (random: experiment ${experiment.key}, ${why}, names ${asked})`, exposure: null };
  }
  const exposure = assigned?.inExperiment ? { experimentId: experiment.experimentId, key: experiment.key, variant: variant.key } : null;
  return { branch: named - 1, detail: `branch ${named} (experiment ${experiment.key}: ${why})`, exposure };
}

/** Runs the enrollment's due steps; a journey has no loops, so each step runs at most once per enrollment. */
export function advanceEnrollment(enrollment: EnrollmentState, definition: JourneyDefinition, context: StepContext): Advance {
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  const runs: StepRun[] = [];
  const sends: StepSend[] = [];
  const exposures: SplitExposure[] = [];
  let current = enrollment.stepId;
  // Bounded by the number of steps: the graph has no cycles (checked when it was saved).
  for (let guard = 0; guard <= definition.steps.length; guard += 1) {
    if (current === null) return { runs, sends, exposures, next: { status: 'completed', reason: 'reached the end' } };
    const step = byId.get(current);
    if (step === undefined) return { runs, sends, exposures, next: { status: 'completed', reason: `step ${current} is not in version ${enrollment.version}` } };
    switch (step.type) {
      case 'send': {
        const verdict = send(step, definition, context);
        if ('hold' in verdict) return { runs, sends, exposures, next: { status: 'active', stepId: step.id, dueAt: verdict.hold } };
        runs.push(verdict);
        if (verdict.outcome === 'sent') sends.push({ stepId: step.id, channel: step.channel, message: step.message, offer: step.offer });
        current = step.next;
        break;
      }
      case 'wait': {
        const ms = step.duration === null ? undefined : durationMs(step.duration);
        const dueAt = ms !== undefined ? new Date(context.now.getTime() + ms) : nextTimeOfDay(context.now, step.untilTimeOfDay as string, context.timeZone);
        runs.push({ stepId: step.id, outcome: 'waited', detail: `until ${dueAt.toISOString()}` });
        return { runs, sends, exposures, next: { status: 'active', stepId: step.next, dueAt } };
      }
      case 'branch': {
        const holds = conditionHolds(step.condition, enrollment, context);
        runs.push({ stepId: step.id, outcome: 'branched', detail: holds ? 'then' : 'else' });
        current = holds ? step.then : step.else;
        break;
      }
      case 'split': {
        const choice = splitChoice(enrollment, step, context);
        runs.push({ stepId: step.id, outcome: 'split', detail: choice.detail });
        if (choice.exposure !== null) exposures.push({ stepId: step.id, branch: choice.branch + 1, experiment: choice.exposure });
        current = step.branches[choice.branch].next;
        break;
      }
    }
  }
  throw new Error(`journey ${enrollment.journeyKey} v${enrollment.version} loops: it was saved unchecked`);
}
