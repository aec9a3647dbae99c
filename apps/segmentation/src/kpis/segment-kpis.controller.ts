import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { KpiHistoryQueryDto } from '../segments/segments.dto';
import { SegmentKpisService } from './segment-kpis.service';

@ApiTags('segments')
@RequireScope('admin')
@Controller('v1')
export class SegmentKpisController {
  constructor(private readonly kpis: SegmentKpisService) {}

  @Post('segments/kpis')
  @HttpCode(200)
  @ApiOperation({ summary: 'Snapshot every active segment’s KPIs now (the schedule does it on SEGMENTS_KPIS_CRON) and publish them as segments.kpis' })
  snapshotKpis() {
    return this.kpis.snapshot();
  }

  @Get('segments/:id/kpis')
  @ApiOperation({
    summary:
      'A segment’s KPI snapshots, newest first: size, shares of customers and revenue, growth, conversion, AOV, repeat purchase, mean CLV, churn, engagement, stability; and `experiments`, its current lift per running experiment (experiments.results): per metric the control’s mean, each variant’s mean, lift with interval and p-value, Holm-adjusted p-value',
  })
  kpiHistory(@Param('id') id: string, @Query() query: KpiHistoryQueryDto) {
    return this.kpis.history(id, query.limit ?? 30);
  }
}
