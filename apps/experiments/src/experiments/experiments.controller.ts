import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { parseMessageData } from '@segmenta/messaging';
import { IsString } from 'class-validator';
import {
  ASSIGNMENT_EXAMPLE,
  AssignmentRequestDto,
  CreateExperimentDto,
  EXPERIMENT_EXAMPLE,
  ExperimentStatusDto,
  ListExperimentsQueryDto,
  ResultsQueryDto,
  SampleSizeQueryDto,
  UpdateExperimentDto,
} from './experiments.dto';
import { ExperimentsService, type AssignmentAnswer } from './experiments.service';

/**
 * The NATS request/reply subject of assignment, for services that do not assign in process. Not
 * `experiments.assign`: the EXPERIMENTS stream captures experiments.>, and JetStream would answer
 * the request with a publish acknowledgement instead of the service.
 */
export const EXPERIMENTS_ASSIGN_PATTERN = 'experiments-api.assign';

class AssignMessage extends AssignmentRequestDto {
  @IsString()
  experiment!: string;
}

/** Experiments: the growth team's (`admin`); reads also take `read`; assignment takes `personalize`. */
@ApiTags('experiments')
@RequireScope('admin')
@Controller('v1/experiments')
export class ExperimentsController {
  constructor(private readonly experiments: ExperimentsService) {}

  @Post()
  @ApiOperation({ summary: 'Create an experiment (a draft); the definition is checked field by field' })
  @ApiResponse({ status: 201, schema: { example: { ...EXPERIMENT_EXAMPLE, status: 'draft', revision: 1, startedAt: null } } })
  @ApiResponse({ status: 400, description: 'A field is wrong: details name each (definition.variants[1].weight, …); nothing is saved.' })
  @ApiResponse({ status: 409, description: 'The key is taken.' })
  create(@Body() body: CreateExperimentDto) {
    return this.experiments.create(body);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Experiments in key order, filtered by ?status=, cursor-paginated (nextCursor)' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        experiments: [{ key: 'checkout-camera-offer', name: 'Checkout: 10 % off vs free shipping', status: 'running', revision: 2, startedAt: '2026-12-03T10:00:00.000Z', endedAt: null }],
        nextCursor: null,
      },
    },
  })
  list(@Query() query: ListExperimentsQueryDto) {
    return this.experiments.list(query);
  }

  // Before :key, which would otherwise take `sample-size` as an experiment's key (that key is refused).
  @Get('sample-size')
  @RequireScope('read')
  @ApiOperation({ summary: 'Plan an experiment: customers per variant to detect a lift with the given power (two-proportion or Welch), and the days the traffic takes' })
  @ApiResponse({
    status: 200,
    schema: { example: { perVariant: 1031, total: 2062, days: 21, absoluteLift: 0.05, alphaPerComparison: 0.05, power: 0.8, variants: 2 } },
  })
  @ApiResponse({ status: 400, description: 'A field is missing or contradicts another: details name it.' })
  sampleSize(@Query() query: SampleSizeQueryDto) {
    return this.experiments.plan(query);
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'An experiment with its definition' })
  @ApiResponse({ status: 200, schema: { example: EXPERIMENT_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such experiment.' })
  get(@Param('key') key: string) {
    return this.experiments.get(key);
  }

  @Get(':key/results')
  @RequireScope('read')
  @ApiOperation({
    summary:
      'Results from the streaming aggregates: per metric (and with ?by=segment per segment, Holm-corrected) each variant’s mean and, against the control, the absolute and relative lift with intervals and p-values (Welch, delta method), the chance to beat control and the risk, an always-valid interval, CUPED; the sample-ratio check and warnings',
  })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        experiment: 'checkout-camera-offer',
        status: 'running',
        srm: { chiSquare: 0.42, degreesOfFreedom: 1, pValue: 0.517, flagged: false, users: { control: 5012, 'ten-off': 4966 } },
        metrics: [
          {
            key: 'orders',
            type: 'conversion',
            guardrail: false,
            segments: [
              {
                segment: null,
                variants: [
                  { key: 'control', name: 'Free shipping', n: 5012, mean: 0.101 },
                  { key: 'ten-off', name: '10 % off cameras', n: 4966, mean: 0.122 },
                ],
                comparisons: [
                  {
                    variant: 'ten-off',
                    frequentist: {
                      absolute: { estimate: 0.021, se: 0.0064, ci: [0.0085, 0.0335], pValue: 0.001 },
                      relative: { estimate: 0.208, se: 0.066, ci: [0.079, 0.337], pValue: 0.0016 },
                      degreesOfFreedom: 9960,
                    },
                    pValueAdjusted: null,
                    bayesian: { estimate: 0.208, sd: 0.066, ci: [0.079, 0.337], chanceToBeatControl: 0.9992, risk: [0.208, 0.0001] },
                    sequential: { estimate: 0.021, se: 0.0064, ci: [0.002, 0.04], pValue: 0.03 },
                    cuped: null,
                    guardrailWarning: false,
                  },
                ],
              },
            ],
          },
        ],
        warnings: [],
      },
    },
  })
  results(@Param('key') key: string, @Query() query: ResultsQueryDto) {
    return this.experiments.results(key, query.by === 'segment');
  }

  @Patch(':key')
  @ApiOperation({ summary: 'Rename or change the definition: a draft freely; a running experiment its hypothesis, metrics and a larger traffic share only' })
  @ApiResponse({ status: 200, schema: { example: EXPERIMENT_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'The change would move customers between variants (running), or the experiment is stopped.' })
  update(@Param('key') key: string, @Body() body: UpdateExperimentDto) {
    return this.experiments.update(key, body);
  }

  @Post(':key/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Start (draft → running) or stop (running → stopped, final)' })
  @ApiResponse({ status: 200, schema: { example: EXPERIMENT_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'The move is not allowed.' })
  changeStatus(@Param('key') key: string, @Body() body: ExperimentStatusDto) {
    return this.experiments.changeStatus(key, body.status);
  }

  @Post(':key/allocation')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move a running bandit’s traffic now (it also moves on its cadence): Thompson sampling on its metric in each targeted segment, every variant kept at its floor' })
  @ApiResponse({ status: 200, schema: { example: { experiment: 'checkout-bandit', segmentWeights: { 'camera-fans': [0.05, 0.81, 0.14] }, allocatedAt: '2026-12-03T11:00:00.000Z' } } })
  @ApiResponse({ status: 409, description: 'Not a running bandit.' })
  reallocate(@Param('key') key: string) {
    return this.experiments.reallocate(key);
  }

  @Post(':key/assignments')
  @HttpCode(200)
  @RequireScope('personalize')
  @ApiOperation({
    summary: 'The variant of a customer (as GrowthBook’s SDKs hash them), and their first exposure recorded (expose: false only asks). A customer keeps the variant of their first exposure.',
  })
  @ApiResponse({ status: 200, schema: { example: ASSIGNMENT_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such experiment.' })
  assign(@Param('key') key: string, @Body() body: AssignmentRequestDto): Promise<AssignmentAnswer> {
    return this.experiments.assign(key, body.profileId, body.expose ?? true);
  }
}

/** Assignment over NATS request/reply ({ experiment, profileId, expose }), for services that do not assign in process. No HTTP route. */
@Controller()
export class AssignmentRpcController {
  constructor(private readonly experiments: ExperimentsService) {}

  @MessagePattern(EXPERIMENTS_ASSIGN_PATTERN)
  async assignOverNats(@Payload() payload: unknown): Promise<AssignmentAnswer> {
    let request: AssignMessage;
    try {
      request = parseMessageData(AssignMessage, payload);
    } catch (error) {
      throw new RpcException({ status: 'invalid', message: (error as Error).message });
    }
    try {
      return await this.experiments.assign(request.experiment, request.profileId, request.expose ?? true);
    } catch (error) {
      throw new RpcException({ status: 'failed', message: (error as Error).message });
    }
  }
}
