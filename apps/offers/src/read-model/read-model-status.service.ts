import { Injectable } from '@nestjs/common';
import { freshness, type Freshness } from './freshness';
import { ReadModelRepository } from './read-model.repository';
import { RebuildService } from './rebuild.service';
import { SegmentationClient } from './segmentation.client';

export interface ReadModelStatus {
  memberships: Freshness & { held: number; pairs: number };
  profiles: { held: number };
  rebuild: { running: boolean; lastStartedAt: string | null; lastFinishedAt: string | null; snapshotSeq: number | null; rows: number | null; error: string | null };
}

/** The read model's freshness and the last rebuild, for GET /v1/offers/status and POST …/rebuild. */
@Injectable()
export class ReadModelStatusService {
  constructor(
    private readonly repository: ReadModelRepository,
    private readonly segmentation: SegmentationClient,
    private readonly rebuilds: RebuildService,
  ) {}

  async status(): Promise<ReadModelStatus> {
    // Without segmentation the read model still answers; only the lag is unknown.
    const [state, counts, head] = await Promise.all([this.repository.state(), this.repository.counts(), this.segmentation.head().catch(() => null)]);
    return {
      memberships: { ...freshness({ seq: state.lastSeq, at: state.lastChangeAt }, head, Date.now()), held: counts.memberships, pairs: counts.pairs },
      profiles: { held: counts.profiles },
      rebuild: {
        running: this.rebuilds.isRunning,
        lastStartedAt: state.rebuildStartedAt,
        lastFinishedAt: state.rebuildFinishedAt,
        snapshotSeq: state.rebuildSnapshotSeq,
        rows: state.rebuildRows,
        error: this.rebuilds.lastFailureToStart ?? state.rebuildError,
      },
    };
  }

  /** Starts a rebuild in the background (a failure shows in the status); says whether one was already running. */
  rebuild(): { started: boolean; running: true } {
    const { started, done } = this.rebuilds.start();
    // Its outcome is recorded in read_model_state (error or finish) and logged; nobody awaits it here.
    done.catch(() => undefined);
    return { started, running: true };
  }
}
