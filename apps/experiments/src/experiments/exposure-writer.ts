import { Injectable } from '@nestjs/common';
import { SUBJECTS, type ExperimentExposedV1, type ExposureSource } from '@segmenta/contracts';

export type { ExposureSource };
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { ExperimentsRepository, type ExperimentsTx } from './experiments.repository';

export interface ExposureRequest {
  experimentId: string;
  key: string;
  profileId: string;
  variant: string;
  source: ExposureSource;
}

/** The customer's first exposure: the variant and time stored with it. */
export interface StoredExposure {
  variant: string;
  firstExposedAt: Date;
}

/** experiments.exposed for each first exposure, in its transaction; the id makes a rewrite of the same exposure one message. */
export function announceExposures(outbox: Outbox, tx: ExperimentsTx, fresh: ExperimentExposedV1[]): Promise<void> {
  return outbox.write(
    tx,
    fresh.map((data) => ({
      subject: SUBJECTS.experimentsExposed,
      envelope: createEnvelope(SUBJECTS.experimentsExposed, data, { id: `exposure-${data.experimentId}-${data.profileId}` }),
      partitionKey: data.profileId,
    })),
  );
}

type Waiting = { request: ExposureRequest; at: Date; resolve: (stored: StoredExposure) => void; reject: (error: unknown) => void };

const MAX_BATCH = 500;
const pairKey = (experimentId: string, profileId: string) => `${experimentId}\u0000${profileId}`;

/**
 * First exposures from the assignment API, committed in groups (issue 21): while one transaction
 * writes, the requests that arrive meanwhile wait and go together in the next one. One request
 * alone is written at once (no added delay); under load a transaction carries many, so the route is
 * not bound by one commit per request. Each answer comes after its exposure (and its
 * experiments.exposed, through the outbox) committed.
 */
@Injectable()
export class ExposureWriter {
  private queue: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly repository: ExperimentsRepository,
    private readonly outbox: Outbox,
  ) {}

  expose(request: ExposureRequest): Promise<StoredExposure> {
    return new Promise<StoredExposure>((resolve, reject) => {
      this.queue.push({ request, at: new Date(), resolve, reject });
      if (!this.writing) void this.writeQueued();
    });
  }

  private async writeQueued(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const stored = await this.repository.transaction((tx) => this.write(tx, batch));
          this.outbox.wake();
          for (const waiting of batch) waiting.resolve(stored.get(pairKey(waiting.request.experimentId, waiting.request.profileId)) as StoredExposure);
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(tx: ExperimentsTx, batch: Waiting[]): Promise<Map<string, StoredExposure>> {
    const fresh = await this.repository.exposeMany(
      tx,
      batch.map(({ request, at }) => ({ experimentId: request.experimentId, profileId: request.profileId, variant: request.variant, at: at.toISOString(), source: request.source })),
    );
    await announceExposures(this.outbox, tx, fresh);
    const stored = new Map<string, StoredExposure>(fresh.map((e) => [pairKey(e.experimentId, e.profileId), { variant: e.variant, firstExposedAt: new Date(e.at) }]));
    const earlier = batch.filter(({ request }) => !stored.has(pairKey(request.experimentId, request.profileId))).map(({ request }) => request);
    for (const e of await this.repository.storedExposures(tx, earlier)) stored.set(pairKey(e.experimentId, e.profileId), e);
    return stored;
  }
}
