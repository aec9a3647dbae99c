import { Injectable, Logger } from '@nestjs/common';
import { SUBJECTS, SegmentReferencesV1, type Envelope } from '@segmenta/contracts';
import { JetStreamConsumer, parseMessageData } from '@segmenta/messaging';
import { SegmentReferencesRepository } from './segment-references.repository';

/** Keeps the reference table from what offers and experiments announce about their targeting. */
@Injectable()
export class SegmentReferencesHandler {
  private readonly logger = new Logger(SegmentReferencesHandler.name);

  constructor(private readonly repository: SegmentReferencesRepository) {}

  @JetStreamConsumer({ stream: 'OFFERS', durable: 'segmentation-offer-references', filterSubjects: [SUBJECTS.offersSegmentReferences] })
  onOffers(envelope: Envelope): Promise<void> {
    return this.apply(envelope);
  }

  @JetStreamConsumer({ stream: 'EXPERIMENTS', durable: 'segmentation-experiment-references', filterSubjects: [SUBJECTS.experimentsSegmentReferences] })
  onExperiments(envelope: Envelope): Promise<void> {
    return this.apply(envelope);
  }

  private async apply(envelope: Envelope): Promise<void> {
    const refs = parseMessageData(SegmentReferencesV1, envelope.data);
    const applied = await this.repository.apply(refs);
    if (!applied) this.logger.debug(`ignored stale references of ${refs.service} ${refs.ownerKind} ${refs.ownerId} (revision ${refs.revision})`);
  }
}
