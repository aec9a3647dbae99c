import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SUBJECTS, type ExperimentChangedV1, type JourneyExposedV1, type JourneySendV1 } from '@segmenta/contracts';
import { Outbox, createEnvelope, type OutgoingMessage } from '@segmenta/messaging';
import { OffersConfig } from '../config';
import { ProgrammeHoldoutReader } from '../personalization/programme-holdout';
import { JourneyDefinitions } from './journey-definitions';
import { JourneyDeliveryWorker } from './journey-delivery.service';
import { advanceEnrollment, type EnrollmentState, type StepRun } from './journey-steps';
import type { OffersTx } from '../catalog/offers.repository';
import { JourneyRunsRepository, type ChannelRow } from './journey-runs.repository';
import type { JourneyDefinition } from './journey-definition';
import { PolledWorker } from './poll-loop';

const key = (a: string, b: string) => `${a}\u0000${b}`;

/**
 * Runs the due steps of journeys (issue 20). Each round locks a batch of due enrollments (FOR
 * UPDATE SKIP LOCKED: replicas share the work, never the same enrollment), runs their steps in
 * memory and stores the step runs, the deliveries, where each enrollment goes next and the
 * exposures of splits that follow an experiment (journeys.exposed, to the outbox) in the same
 * transaction. A process killed mid-round rolls the whole round back; the steps run again, once.
 */
@Injectable()
export class JourneyExecutor extends PolledWorker {
  private readonly logger: Logger;
  /** Steps run since start (benches and logs). */
  stepsRun = 0;

  constructor(
    private readonly runs: JourneyRunsRepository,
    private readonly definitions: JourneyDefinitions,
    private readonly delivery: JourneyDeliveryWorker,
    private readonly config: OffersConfig,
    private readonly outbox: Outbox,
    private readonly holdout: ProgrammeHoldoutReader,
  ) {
    super('journey steps', { pollMs: config.JOURNEY_POLL_MS, batchSize: config.JOURNEY_BATCH_SIZE, logger: new Logger(JourneyExecutor.name) });
    this.logger = new Logger(JourneyExecutor.name);
  }

  protected round(): Promise<number> {
    return this.runDue();
  }

  /** One round: runs the steps of up to a batch of due enrollments; returns how many it took. */
  async runDue(now = new Date(), limit = this.config.JOURNEY_BATCH_SIZE): Promise<number> {
    let claimed: string[] = [];
    try {
      const result = await this.runs.transaction(async (tx) => {
        const due = await this.runs.claimDue(tx, now, limit);
        claimed = due.map((e) => e.id);
        return this.runClaimed(tx, due, now);
      });
      this.wakeFor(result);
      return result.taken;
    } catch (error) {
      if (claimed.length === 0) throw error;
      // One enrollment that cannot run must not hold up the rest: each runs alone, and one that fails alone waits longer each time.
      this.logger.warn(`a batch of ${claimed.length} journey steps failed (${(error as Error).message.split('\n')[0]}); running them one by one`);
      for (const id of claimed) await this.runAlone(id, now);
      return claimed.length;
    }
  }

  private async runAlone(id: string, now: Date): Promise<void> {
    try {
      const result = await this.runs.transaction(async (tx) => this.runClaimed(tx, await this.runs.claimDue(tx, now, 1, [id]), now));
      this.wakeFor(result);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      const retryAt = await this.runs.postpone(id, message, now);
      this.logger.error(`journey enrollment ${id} failed its step (${message}); tried again at ${retryAt.toISOString()}`);
    }
  }

  /** After a round's commit: the delivery worker for its sends, the outbox relay for its exposures. */
  private wakeFor(result: { sent: number; exposed: number }): void {
    if (result.sent > 0) this.delivery.wake();
    if (result.exposed > 0) this.outbox.wake();
  }

  /** Runs the steps of enrollments locked in `tx` and stores what they did, in `tx`. */
  private async runClaimed(tx: OffersTx, due: EnrollmentState[], now: Date): Promise<{ taken: number; sent: number; exposed: number }> {
    if (due.length === 0) return { taken: 0, sent: 0, exposed: 0 };
    // Read only when there is work: an idle poll is one claim query.
    const channels = new Map((await this.runs.channels(tx)).map((c) => [c.key, c]));
    const definitions = new Map<string, JourneyDefinition>();
    for (const e of due) {
      const id = `${e.journeyKey}@${e.version}`;
      if (!definitions.has(id)) definitions.set(id, (await this.definitions.of(e.journeyKey, e.version, tx)) as JourneyDefinition);
    }
    const all = [...definitions.values()];
    const profiles = [...new Set(due.map((e) => e.profileId))];
    const splitExperiments: ExperimentChangedV1[] = all.some((d) => d.steps.some((s) => s.type === 'split')) ? await this.runs.splitExperiments(tx) : [];
    const segmentKeys = [
      ...new Set([
        ...all.flatMap((d) => d.steps.flatMap((s) => (s.type === 'branch' && s.condition.type === 'in_segment' ? [s.condition.segment] : []))),
        // An experiment's targeting: only its members are assigned at a split.
        ...splitExperiments.flatMap((e) => e.segments),
      ]),
    ];
    const askedOffers = [...new Set(all.flatMap((d) => d.steps.flatMap((s) => (s.type === 'branch' && s.condition.type === 'redeemed_offer' ? [s.condition.offer] : []))))];
    const sends = all.some((d) => d.steps.some((s) => s.type === 'send'));
    const zones = await this.runs.timeZones(tx, profiles);
    const history = sends ? await this.runs.recentSends(tx, profiles, now) : new Map<string, Date[]>();
    const members = await this.runs.memberships(tx, profiles, segmentKeys);
    // Enrolled before the programme holdout started: a held-out customer's sends are skipped from now on.
    const heldOut = sends ? await this.holdout.heldOut(profiles, tx) : new Set<string>();
    const redemptions = await this.runs.redemptionsOf(tx, profiles, askedOffers);

    const runRows: Parameters<JourneyRunsRepository['recordSteps']>[1]['runs'] = [];
    const deliveries: Parameters<JourneyRunsRepository['recordSteps']>[1]['deliveries'] = [];
    const moves: Parameters<JourneyRunsRepository['recordSteps']>[1]['moves'] = [];
    const exposed: OutgoingMessage[] = [];
    const decided: Array<{ enrollment: (typeof due)[number]; run: StepRun; send: { channel: string; message: Record<string, unknown>; offer: string | null } }> = [];
    for (const enrollment of due) {
      const definition = definitions.get(`${enrollment.journeyKey}@${enrollment.version}`);
      if (!definition) {
        moves.push({ id: enrollment.id, status: 'completed', stepId: null, dueAt: null, reason: `version ${enrollment.version} of ${enrollment.journeyKey} is gone` });
        continue;
      }
      const advance = advanceEnrollment(enrollment, definition, {
        now,
        timeZone: zones.get(enrollment.profileId) ?? this.config.JOURNEY_DEFAULT_TIME_ZONE,
        channelCaps: (channel) => {
          const row = channels.get(channel);
          return row && { perDay: row.capPerDay, perWeek: row.capPerWeek };
        },
        sentOn: (channel) => {
          const id = key(enrollment.profileId, channel);
          if (!history.has(id)) history.set(id, []);
          return history.get(id) as Date[];
        },
        inSegment: (segment) => members.has(key(enrollment.profileId, segment)),
        redeemedSinceEntry: (offer) => redemptions.some((r) => r.profileId === enrollment.profileId && r.offerKey === offer && r.at >= enrollment.enteredAt),
        splitExperiments,
        heldOut: heldOut.has(enrollment.profileId),
      });
      for (const exposure of advance.exposures) {
        const data: JourneyExposedV1 = {
          profileId: enrollment.profileId,
          journeyKey: enrollment.journeyKey,
          version: enrollment.version,
          stepId: exposure.stepId,
          branch: exposure.branch,
          experiments: [exposure.experiment],
          at: now.toISOString(),
        };
        // Deterministic: a step run again after a crash is announced once (the stream drops the repeat).
        const id = `journey-exposed-${enrollment.id}-${exposure.stepId}`;
        exposed.push({ subject: SUBJECTS.journeysExposed, envelope: createEnvelope(SUBJECTS.journeysExposed, data, { id, occurredAt: now }), partitionKey: enrollment.profileId });
      }
      for (const run of advance.runs) {
        runRows.push({ enrollmentId: enrollment.id, journeyKey: enrollment.journeyKey, version: enrollment.version, ...run });
        const send = run.outcome === 'sent' ? advance.sends.find((s) => s.stepId === run.stepId) : undefined;
        if (send) decided.push({ enrollment, run: runRows[runRows.length - 1], send });
      }
      moves.push(
        advance.next.status === 'active'
          ? { id: enrollment.id, status: 'active', stepId: advance.next.stepId, dueAt: advance.next.dueAt, reason: null }
          : { id: enrollment.id, status: 'completed', stepId: null, dueAt: null, reason: advance.next.reason },
      );
    }

    // Sends with an offer carry it, with a unique code reserved for the customer when the offer has a pool.
    const offers = await this.runs.offers(tx, [...new Set(decided.flatMap((d) => (d.send.offer === null ? [] : [d.send.offer])))]);
    for (const { enrollment, run, send } of decided) {
      let offer: JourneySendV1['offer'] = null;
      if (send.offer !== null) {
        const found = offers.get(send.offer);
        const code =
          found?.status !== 'active'
            ? undefined
            : found.coupons.type === 'unique'
              ? await this.runs.reserveCode(tx, found.id, enrollment.profileId)
              : found.coupons.type === 'shared'
                ? found.coupons.code
                : null;
        if (found?.status !== 'active' || code === undefined) {
          run.outcome = 'skipped';
          run.detail = found?.status !== 'active' ? `offer ${send.offer} is not active` : `offer ${send.offer} has no unique code left`;
          history.get(key(enrollment.profileId, send.channel))?.pop();
          continue;
        }
        offer = { key: found.key, name: found.name, code };
      }
      const id = randomUUID();
      const payload: JourneySendV1 = {
        deliveryId: id,
        journey: enrollment.journeyKey,
        journeyVersion: enrollment.version,
        step: run.stepId,
        enrollmentId: enrollment.id,
        profileId: enrollment.profileId,
        channel: send.channel,
        message: send.message,
        offer,
        sentAt: now.toISOString(),
      };
      const channel = channels.get(send.channel) as ChannelRow;
      deliveries.push({
        id,
        enrollmentId: enrollment.id,
        stepId: run.stepId,
        journeyKey: enrollment.journeyKey,
        version: enrollment.version,
        profileId: enrollment.profileId,
        channel: send.channel,
        payload: payload as unknown as Record<string, unknown>,
        giveUpAt: new Date(now.getTime() + channel.retryForSeconds * 1000),
      });
    }
    await this.runs.recordSteps(tx, { runs: runRows, deliveries, moves }, now);
    await this.outbox.write(tx, exposed);
    this.stepsRun += runRows.length;
    return { taken: due.length, sent: deliveries.length, exposed: exposed.length };
  }
}
