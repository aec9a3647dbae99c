import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MembershipHeadV1 } from '@segmenta/contracts';
import { DATABASE, withTransaction, type Database } from '@segmenta/persistence';
import type * as tables from '../db/schema';
import { ReadModelRepository } from './read-model.repository';
import { SegmentationClient } from './segmentation.client';

/** Rows per page asked of segmentation. */
export const REBUILD_PAGE_SIZE = 2000;
/** Waits between attempts of the automatic rebuild while segmentation does not answer. */
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

export interface RebuildResult {
  snapshotSeq: number;
  rows: number;
  swept: number;
}

/**
 * Rebuilds the membership read model from segmentation's pages, for when SEGMENTS no longer holds
 * old changes: the head seq S0 first, then every page (each applied with the seq guard and marked),
 * then members no page held whose last change is not after S0 become non-members. The consumer
 * keeps applying stream changes meanwhile; the per-pair seq guard makes the overlap harmless.
 * Runs by itself when the read model is empty at start, and on demand.
 */
@Injectable()
export class RebuildService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RebuildService.name);
  private running: Promise<RebuildResult> | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the last rebuild could not start (segmentation did not answer): nothing was written for it. */
  private failedToStart: string | null = null;

  constructor(
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
    private readonly repository: ReadModelRepository,
    private readonly segmentation: SegmentationClient,
  ) {}

  get isRunning(): boolean {
    return this.running !== null;
  }

  get lastFailureToStart(): string | null {
    return this.failedToStart;
  }

  onApplicationBootstrap(): void {
    void this.rebuildIfEmpty(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Starts a rebuild unless one runs in this process; resolves when it ends. */
  start(): { started: boolean; done: Promise<RebuildResult> } {
    if (this.running) return { started: false, done: this.running };
    const done = this.run().finally(() => {
      this.running = null;
    });
    this.running = done;
    return { started: true, done };
  }

  private async rebuildIfEmpty(attempt: number): Promise<void> {
    if (this.stopped) return;
    try {
      if (!(await this.repository.isEmpty())) return;
      await this.start().done;
    } catch (error) {
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      if (attempt === 0 || attempt % 10 === 0) this.logger.warn(`the membership read model is empty and its rebuild failed (${(error as Error).message}); trying again in ${delay} ms`);
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.rebuildIfEmpty(attempt + 1), delay);
    }
  }

  private async run(): Promise<RebuildResult> {
    const started = performance.now();
    // S0 first, and before anything is written: an attempt while segmentation is away leaves no trace but this.
    let head: MembershipHeadV1;
    try {
      head = await this.segmentation.head();
      this.failedToStart = null;
    } catch (error) {
      this.failedToStart = (error as Error).message;
      throw error;
    }
    const mark = await this.repository.startRebuild();
    try {
      let rows = 0;
      let after: { afterSegmentId: string; afterProfileId: string } | undefined;
      for (;;) {
        if (this.stopped) throw new Error('the service is stopping');
        const page = await this.segmentation.page({ ...after, limit: REBUILD_PAGE_SIZE });
        await withTransaction(
          this.database.db,
          async (tx) => {
            await this.repository.holdMembershipWrites(tx);
            await this.repository.applySnapshotPage(tx, page.rows, mark);
          },
          { attempts: 8 },
        );
        rows += page.rows.length;
        if (!page.next) break;
        after = page.next;
      }
      const swept = await withTransaction(
        this.database.db,
        async (tx) => {
          await this.repository.holdMembershipWrites(tx);
          const n = await this.repository.sweepUnseen(tx, mark, head.seq);
          if (head.segments) await this.repository.writeSegmentNames(tx, head.segments, true);
          await this.repository.finishRebuild(tx, mark, { seq: head.seq, at: head.at }, rows);
          return n;
        },
        { attempts: 8 },
      );
      this.logger.log(
        `rebuilt the membership read model from segmentation: ${rows} memberships up to change ${head.seq}, ${swept} left as non-members, in ${(performance.now() - started).toFixed(0)} ms`,
      );
      return { snapshotSeq: head.seq, rows, swept };
    } catch (error) {
      await this.repository.failRebuild(mark, (error as Error).message);
      throw error;
    }
  }
}
