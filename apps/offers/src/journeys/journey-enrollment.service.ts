import { Injectable } from '@nestjs/common';
import type { LoyaltyPointsExpiringV1, LoyaltyTierChangedV1, ProfileActivityV1, SegmentMembershipChangedV1 } from '@segmenta/contracts';
import { canonicalTimeZone } from '../catalog/validity-window';
import type { JourneyDefinition } from './journey-definition';
import { JourneyDefinitions } from './journey-definitions';
import { JourneyRunsRepository, type EntryCandidate } from './journey-runs.repository';
import { asksAboutEvent, endsEnrollment, triggers, type TriggerMessage } from './journey-triggers';
import { JourneyExecutor } from './journey-executor.service';
import { ProgrammeHoldoutReader } from '../personalization/programme-holdout';

/** A message that may start, end or inform journeys: its envelope id (the entry's cause), its customer, and what it says. */
export interface JourneySignal {
  id: string;
  profileId: string;
  message: TriggerMessage;
}

export type LoyaltyMessage = { id: string; type: 'tier_changed'; data: LoyaltyTierChangedV1 } | { id: string; type: 'points_expiring'; data: LoyaltyPointsExpiringV1 };

/**
 * Enrollment (issue 20): segment entries and exits, track events and loyalty events start the
 * active journeys they trigger (re-entry policies permitting), end running enrollments (left the
 * segment, converted), and are noted for did_event branches, all in one transaction per batch.
 * Customers held out of the programme enter none.
 */
@Injectable()
export class JourneyEnrollmentService {
  constructor(
    private readonly runs: JourneyRunsRepository,
    private readonly definitions: JourneyDefinitions,
    private readonly executor: JourneyExecutor,
    private readonly holdout: ProgrammeHoldoutReader,
  ) {}

  fromSegmentChanges(changes: Array<{ id: string; data: SegmentMembershipChangedV1 }>): Promise<number> {
    return this.apply(changes.map(({ id, data }) => ({ id, profileId: data.profileId, message: { kind: 'segment', change: data.change, segment: data.segmentKey } })));
  }

  /** Track events start and end journeys; identify calls keep the customer's time zone (trait `timezone`). */
  fromActivities(activities: Array<{ id: string; data: ProfileActivityV1 }>): Promise<number> {
    const zones = activities.flatMap(({ data }) => {
      const zone = canonicalTimeZone(data.traits?.timezone);
      return zone === undefined ? [] : [{ profileId: data.profileId, timeZone: zone }];
    });
    const signals: JourneySignal[] = activities.flatMap(({ id, data }) =>
      data.type === 'track' && data.name ? [{ id, profileId: data.profileId, message: { kind: 'event', event: data.name, properties: data.properties ?? {} } }] : [],
    );
    return this.apply(signals, zones);
  }

  fromLoyalty(messages: LoyaltyMessage[]): Promise<number> {
    return this.apply(
      messages.map((m) => ({
        id: m.id,
        profileId: m.data.profileId,
        message: { kind: 'loyalty', event: m.type, tier: m.type === 'tier_changed' ? (m.data as LoyaltyTierChangedV1).to : null },
      })),
    );
  }

  /** Applies signals in order: ends and notes for running enrollments first, then the entries they trigger. Returns the number entered. */
  private async apply(given: JourneySignal[], zones: Array<{ profileId: string; timeZone: string }> = []): Promise<number> {
    if (given.length === 0 && zones.length === 0) return 0;
    const active = given.length === 0 ? [] : await this.definitions.active();
    // No journey to enter and nobody in one (a shop without journeys): the events concern no journey.
    const signals = active.length === 0 && given.length > 0 && !(await this.runs.anyRunning()) ? [] : given;
    if (signals.length === 0 && zones.length === 0) return 0;
    const now = new Date();
    const entered = await this.runs.transaction(async (tx) => {
      await this.runs.keepTimeZones(tx, zones);
      if (signals.length === 0) return 0;
      const running = await this.runs.activeOf(tx, [...new Set(signals.map((s) => s.profileId))]);
      const ends = new Map<string, { id: string; status: 'exited' | 'converted'; reason: string }>();
      const notes: Array<{ id: string; event: string }> = [];
      for (const enrollment of running) {
        const definition = await this.definitions.of(enrollment.journeyKey, enrollment.version, tx);
        if (!definition) continue;
        for (const signal of signals) {
          if (signal.profileId !== enrollment.profileId || ends.has(enrollment.id)) continue;
          const end = endsEnrollment(definition, signal.message);
          if (end) ends.set(enrollment.id, { id: enrollment.id, ...end });
          else if (signal.message.kind === 'event' && asksAboutEvent(definition, signal.message.event)) notes.push({ id: enrollment.id, event: signal.message.event });
        }
      }
      await this.runs.end(tx, [...ends.values()], now);
      await this.runs.noteEvents(tx, notes);
      const candidates: EntryCandidate[] = [];
      // The programme holdout (issue 22) enters no journey: it gets no treatments.
      const triggering = signals.filter((signal) => active.some((journey) => triggers(journey.definition, signal.message)));
      const heldOut = await this.holdout.heldOut([...new Set(triggering.map((s) => s.profileId))], tx);
      for (const signal of triggering)
        if (!heldOut.has(signal.profileId))
          for (const journey of active)
            if (triggers(journey.definition, signal.message))
              candidates.push({
                journeyKey: journey.key,
                version: journey.version,
                profileId: signal.profileId,
                cause: signal.id,
                firstStep: journey.definition.steps[0].id,
                reentryDays: reentryDays(journey.definition),
              });
      return (await this.runs.enter(tx, candidates, now)).length;
    });
    if (entered > 0) this.executor.wake();
    return entered;
  }
}

const reentryDays = (definition: JourneyDefinition) => (definition.reentry.policy === 'after' ? definition.reentry.days : null);
