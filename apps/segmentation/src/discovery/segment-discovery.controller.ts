import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { DiscoverSegmentsDto } from '../segments/segments.dto';
import { SegmentDiscoveryService } from './segment-discovery.service';

@ApiTags('segments')
@RequireScope('admin')
@Controller('v1')
export class SegmentDiscoveryController {
  constructor(private readonly discovery: SegmentDiscoveryService) {}

  @Post('segments/discover')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Discover micro-segments now (also on SEGMENTS_DISCOVER_CRON): k-means++ over customers with orders, k by silhouette, stored as cluster segments with names and persona cards; clusters keep their segment across runs',
  })
  discover(@Body() body: DiscoverSegmentsDto) {
    return this.discovery.discover(body);
  }
}
