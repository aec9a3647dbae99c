import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { ReadModelStatusService } from './read-model-status.service';

const STATUS_EXAMPLE = {
  memberships: {
    lastAppliedSeq: 18234,
    lastAppliedAt: '2026-12-10T11:59:58.120Z',
    segmentationSeq: 18240,
    segmentationAt: '2026-12-10T11:59:59.870Z',
    lagChanges: 6,
    lagSeconds: 2,
    held: 5210,
    pairs: 5893,
  },
  profiles: { held: 2480 },
  rebuild: { running: false, lastStartedAt: '2026-12-10T09:00:01.000Z', lastFinishedAt: '2026-12-10T09:00:03.400Z', snapshotSeq: 17002, rows: 5120, error: null },
};

/** The membership and profile read model: its freshness, and a rebuild from segmentation. */
@ApiTags('read model')
@RequireScope('admin')
@Controller('v1/offers')
export class ReadModelController {
  constructor(private readonly status: ReadModelStatusService) {}

  @Get('status')
  @RequireScope('read')
  @ApiOperation({
    summary:
      "The read model's freshness: last membership change applied, segmentation's latest (null when it does not answer), the lag in changes and seconds, memberships and profiles held, the last rebuild",
  })
  @ApiResponse({ status: 200, schema: { example: STATUS_EXAMPLE } })
  get() {
    return this.status.status();
  }

  @Post('read-model/rebuild')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Rebuild the membership read model from segmentation (its head seq, then every page; stream changes keep applying meanwhile). Runs in the background: GET /v1/offers/status shows its progress and outcome',
  })
  @ApiResponse({ status: 202, schema: { example: { started: true, running: true } } })
  rebuild() {
    return this.status.rebuild();
  }
}
