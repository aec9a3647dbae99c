import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '@segmenta/chassis';
import { SegmentDiscoveryService } from '../discovery/segment-discovery.service';
import { SegmentKpisService } from '../kpis/segment-kpis.service';
import { MembershipService } from '../membership/membership.service';
import { ChangesQueryDto, CreateSegmentDto, DiscoverSegmentsDto, KpiHistoryQueryDto, PageQueryDto, PreviewSegmentDto, UpdateSegmentDto } from './segments.dto';
import { SegmentMembersService } from './segment-members.service';
import { SegmentsService } from './segments.service';

@ApiTags('segments')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1')
export class SegmentsController {
  constructor(
    private readonly segments: SegmentsService,
    private readonly members: SegmentMembersService,
    private readonly memberships: MembershipService,
    private readonly kpis: SegmentKpisService,
    private readonly discovery: SegmentDiscoveryService,
  ) {}

  @Get('segments')
  @ApiOperation({ summary: 'Every segment with its size and freshness' })
  list() {
    return this.segments.list();
  }

  @Post('segments')
  @ApiOperation({ summary: 'Create a rule segment; it is evaluated at once' })
  create(@Body() body: CreateSegmentDto) {
    return this.segments.create(body);
  }

  @Post('segments/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Count and sample of the customers a definition selects now, without saving it' })
  preview(@Body() body: PreviewSegmentDto) {
    return this.segments.preview(body.definition, body.sample ?? 10);
  }

  @Post('segments/recompute')
  @HttpCode(200)
  @ApiOperation({ summary: 'Evaluate every active segment over every profile now and emit the differences' })
  recompute() {
    return this.memberships.recompute();
  }

  @Post('segments/discover')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discover micro-segments now (also on SEGMENTS_DISCOVER_CRON): k-means++ over customers with orders, k by silhouette, stored as cluster segments with names and persona cards; clusters keep their segment across runs' })
  discover(@Body() body: DiscoverSegmentsDto) {
    return this.discovery.discover(body);
  }

  @Post('segments/kpis')
  @HttpCode(200)
  @ApiOperation({ summary: 'Snapshot every active segment’s KPIs now (the schedule does it on SEGMENTS_KPIS_CRON) and publish them as segments.kpis' })
  snapshotKpis() {
    return this.kpis.snapshot();
  }

  @Get('segments/:id/kpis')
  @ApiOperation({ summary: 'A segment’s KPI snapshots, newest first: size, shares of customers and revenue, growth, conversion, AOV, repeat purchase, mean CLV, churn, engagement, stability' })
  kpiHistory(@Param('id') id: string, @Query() query: KpiHistoryQueryDto) {
    return this.kpis.history(id, query.limit ?? 30);
  }

  @Get('segments/overlap')
  @ApiOperation({ summary: 'Shared members of two or more segments: ?segments=key1,key2' })
  overlap(@Query('segments') segments = '') {
    return this.members.overlap(segments.split(',').map((s) => s.trim()).filter(Boolean));
  }

  @Get('segments/:id')
  get(@Param('id') id: string) {
    return this.segments.get(id);
  }

  @Put('segments/:id')
  @ApiOperation({ summary: 'Edit; a new definition raises the version and emits the membership differences' })
  update(@Param('id') id: string, @Body() body: UpdateSegmentDto) {
    return this.segments.update(id, body);
  }

  @Delete('segments/:id')
  @ApiOperation({ summary: 'Delete; refused (409) while another segment reads it through inSegment or an offer, journey or experiment targets it' })
  delete(@Param('id') id: string) {
    return this.segments.delete(id);
  }

  @Get('segments/:id/members')
  @ApiOperation({ summary: 'Members, cursor-paginated (nextCursor)' })
  membersOf(@Param('id') id: string, @Query() query: PageQueryDto) {
    return this.members.members(id, query.cursor, query.limit ?? 100);
  }

  @Get('segments/:id/changes')
  @ApiOperation({ summary: 'The membership-change log after a sequence number: catch up exactly with ?after=<last seq seen>' })
  changes(@Param('id') id: string, @Query() query: ChangesQueryDto) {
    return this.members.changes(id, query.after ?? 0, query.limit ?? 1000);
  }

  @Get('segments/:id/history')
  @ApiOperation({ summary: 'Size at the end of each day (last 90 days)' })
  history(@Param('id') id: string) {
    return this.members.history(id);
  }

  @Get('profiles/:id/segments')
  @ApiOperation({ summary: 'The segments a profile belongs to' })
  profileSegments(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.members.segmentsOf(id);
  }
}
