import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { MembershipService } from '../membership/membership.service';
import { ChangesQueryDto, CreateSegmentDto, PageQueryDto, PreviewSegmentDto, RecomputeQueryDto, UpdateSegmentDto } from './segments.dto';
import { SegmentMembersService } from './segment-members.service';
import { SegmentsService } from './segments.service';

@ApiTags('segments')
@RequireScope('admin')
@Controller('v1')
export class SegmentsController {
  constructor(
    private readonly segments: SegmentsService,
    private readonly members: SegmentMembersService,
    private readonly memberships: MembershipService,
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
  @ApiOperation({
    summary: 'Evaluate every active segment now and emit the differences: by default only the profiles time can have changed since the last recompute, with ?full=true every profile',
  })
  recompute(@Query() query: RecomputeQueryDto) {
    return this.memberships.recompute(undefined, { full: query.full === 'true' });
  }

  @Get('segments/overlap')
  @ApiOperation({ summary: 'Shared members of two or more segments: ?segments=key1,key2' })
  overlap(@Query('segments') segments = '') {
    return this.members.overlap(
      segments
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
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

  // What an app asks at run time to personalize for a customer.
  @Get('profiles/:id/segments')
  @RequireScope('personalize')
  @ApiOperation({ summary: 'The segments a profile belongs to' })
  profileSegments(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.members.segmentsOf(id);
  }
}
