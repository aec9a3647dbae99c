import { Injectable } from '@nestjs/common';
import { ProfileActivityV1, SUBJECTS } from '@segmenta/contracts';
import { Inbox, JetStreamBatchConsumer, assertMessageData, type BatchMessage } from '@segmenta/messaging';
import { ExperimentsRepository, metricValueKey } from '../experiments/experiments.repository';
import { metricValueAfter } from './metric-values';

export const EXPERIMENTS_ACTIVITY_DURABLE = 'experiments-activity';

type Delta = { experimentId: string; variant: string; segmentKey: string; metricKey: string; sumY: number; sumY2: number; sumXY: number };

/**
 * Conversions and revenue from profiles.activity into the streaming aggregates (issue 21): each
 * track event of an exposed customer moves their metric values, and every aggregate row of their
 * variant and segments moves by the difference, in one transaction per batch; the inbox makes a
 * redelivered event count once.
 */
@Injectable()
export class ConversionsHandler {
  private readonly inbox = new Inbox('experiments', EXPERIMENTS_ACTIVITY_DURABLE);

  constructor(private readonly repository: ExperimentsRepository) {}

  @JetStreamBatchConsumer({ stream: 'PROFILES', durable: EXPERIMENTS_ACTIVITY_DURABLE, filterSubjects: [SUBJECTS.profilesActivity], maxBatch: 500 })
  async onActivity(messages: BatchMessage[]): Promise<void> {
    const events = messages.flatMap(({ envelope }) => {
      assertMessageData(ProfileActivityV1, envelope.data);
      const data = envelope.data as ProfileActivityV1;
      return data.type === 'track' && data.name ? [{ id: data.eventId, profileId: data.profileId, name: data.name, properties: data.properties ?? {}, occurredAt: new Date(data.occurredAt) }] : [];
    });
    if (events.length === 0) return;
    await this.repository.transaction(async (tx) => {
      const exposures = await this.repository.exposuresOf(tx, [...new Set(events.map((e) => e.profileId))]);
      if (exposures.length === 0) return;
      // The event's messageId: a redelivery, or the same event sent twice, counts once.
      const fresh = await this.inbox.claim(
        tx,
        events.filter((e) => exposures.some((x) => x.profileId === e.profileId)).map((e) => e.id),
      );
      const values = await this.repository.metricValues(tx, [...new Set(exposures.map((x) => x.profileId))]);
      const changed = new Map<string, { experimentId: string; profileId: string; metricKey: string; value: number }>();
      const deltas = new Map<string, Delta>();
      const ordered = events.filter((e) => fresh.has(e.id)).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
      for (const event of ordered)
        for (const exposure of exposures) {
          if (exposure.profileId !== event.profileId) continue;
          for (const metric of exposure.metrics) {
            const key = metricValueKey(exposure.experimentId, exposure.profileId, metric.key);
            const before = values.get(key) ?? 0;
            const after = metricValueAfter(metric, exposure.exposedAt, exposure.endedAt, event, before);
            if (after === null || after === before) continue;
            values.set(key, after);
            changed.set(key, { experimentId: exposure.experimentId, profileId: exposure.profileId, metricKey: metric.key, value: after });
            for (const segmentKey of ['', ...exposure.segments]) {
              const id = `${exposure.experimentId}\u0000${exposure.variant}\u0000${segmentKey}\u0000${metric.key}`;
              const delta = deltas.get(id) ?? { experimentId: exposure.experimentId, variant: exposure.variant, segmentKey, metricKey: metric.key, sumY: 0, sumY2: 0, sumXY: 0 };
              delta.sumY += after - before;
              delta.sumY2 += after * after - before * before;
              delta.sumXY += exposure.covariate * (after - before);
              deltas.set(id, delta);
            }
          }
        }
      await this.repository.writeMetricChanges(tx, [...changed.values()], [...deltas.values()]);
    });
  }
}
