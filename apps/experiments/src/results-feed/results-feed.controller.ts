import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { ResultsFeedService } from './results-feed.service';

/** Publishing results on demand (the schedule does it on EXPERIMENTS_RESULTS_CRON). */
@ApiTags('experiments')
@RequireScope('admin')
@Controller('v1/experiments')
export class ResultsFeedController {
  constructor(private readonly feed: ResultsFeedService) {}

  @Post(':key/results/publish')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Compute an experiment’s results by segment now and publish them as experiments.results (every running one is published on EXPERIMENTS_RESULTS_CRON); segmentation shows each segment’s lift with its KPIs. A stopped experiment’s final results retire it there.',
  })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        experimentId: '5b0f6a2e-8a3c-4a55-9a51-2f7d0c1e9b11',
        key: 'checkout-camera-offer',
        kind: 'experiment',
        status: 'running',
        at: '2026-12-10T10:15:00.000Z',
        overall: [],
        segments: [
          {
            segmentKey: 'vip',
            metrics: [
              {
                metricKey: 'orders',
                type: 'conversion',
                control: { variant: 'control', n: 1002, mean: 0.101 },
                variants: [
                  { variant: 'ten-off', n: 998, mean: 0.142, lift: { estimate: 0.041, ci: [0.012, 0.07], pValue: 0.005 }, relativeLift: 0.406, pValueAdjusted: 0.01, chanceToBeatControl: 0.997 },
                ],
              },
            ],
          },
        ],
      },
    },
  })
  @ApiResponse({ status: 404, description: 'No such experiment.' })
  @ApiResponse({ status: 409, description: 'The experiment is a draft: nothing to publish.' })
  publish(@Param('key') key: string) {
    return this.feed.publish(key);
  }
}
