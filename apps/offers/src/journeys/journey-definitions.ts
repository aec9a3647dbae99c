import { Injectable } from '@nestjs/common';
import type { OffersTx } from '../catalog/offers.repository';
import type { JourneyDefinition } from './journey-definition';
import { JourneyRunsRepository } from './journey-runs.repository';

/** Journey definitions as running code reads them: versions never change once saved, so each is read once per process. */
@Injectable()
export class JourneyDefinitions {
  private readonly versions = new Map<string, Promise<JourneyDefinition | undefined>>();

  constructor(private readonly runs: JourneyRunsRepository) {}

  /** The active journeys and their current versions (read per batch: a status change counts at once, on every replica). */
  active() {
    return this.runs.activeJourneys();
  }

  /** `tx`: read through the caller's transaction (PGlite has one connection: a read beside it would wait for it forever). */
  of(key: string, version: number, tx?: OffersTx): Promise<JourneyDefinition | undefined> {
    const id = `${key}@${version}`;
    let found = this.versions.get(id);
    if (!found) {
      found = this.runs.definition(key, version, tx).then(
        (definition) => {
          if (!definition) this.versions.delete(id);
          return definition;
        },
        (error: unknown) => {
          this.versions.delete(id);
          throw error;
        },
      );
      this.versions.set(id, found);
    }
    return found;
  }
}
