import { Body, Controller, Delete, Get, HttpCode, Put, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { ProgrammeHoldoutDto, ProgrammeLiftQueryDto } from './programme.dto';
import { ProgrammeService } from './programme.service';

type Response = { status(code: number): unknown };

const HOLDOUT_EXAMPLE = { share: 0.05, seed: 'programme-holdout', status: 'running', startedAt: '2026-12-03T10:00:00.000Z', endedAt: null, metrics: ['orders', 'revenue', 'net-revenue', 'retention'] };

/** The programme holdout and the programme's lift (issue 22): the growth team's (`admin`); the lift also for `read` keys. */
@ApiTags('programme')
@RequireScope('admin')
@Controller('v1/programme')
export class ProgrammeController {
  constructor(private readonly programme: ProgrammeService) {}

  @Put('holdout')
  @ApiOperation({
    summary: 'Start the programme holdout (201), or confirm it (200): a share of all customers, hashed with its own seed, gets no personalized offers, base earning only and no journeys',
  })
  @ApiResponse({ status: 201, schema: { example: HOLDOUT_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'It runs with another share or seed (changing them would move customers), or it was stopped.' })
  async setHoldout(@Body() body: ProgrammeHoldoutDto, @Res({ passthrough: true }) response: Response) {
    const { created, holdout } = await this.programme.setHoldout(body.share, body.seed);
    response.status(created ? 201 : 200);
    return holdout;
  }

  @Get('holdout')
  @RequireScope('read')
  @ApiOperation({ summary: 'The programme holdout' })
  @ApiResponse({ status: 200, schema: { example: HOLDOUT_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'None was started.' })
  holdout() {
    return this.programme.holdout();
  }

  @Delete('holdout')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop the holdout (final): everyone gets the programme from now on' })
  @ApiResponse({ status: 200, schema: { example: { ...HOLDOUT_EXAMPLE, status: 'stopped', endedAt: '2027-06-01T00:00:00.000Z' } } })
  stopHoldout() {
    return this.programme.stopHoldout();
  }

  @Get('lift')
  @RequireScope('read')
  @ApiOperation({
    summary:
      'The programme’s lift, treated against held out, from the streaming aggregates: orders, revenue, revenue net of reward cost and retention per customer with intervals (and per segment with ?by=segment), incremental revenue net of reward cost, the sample-ratio check',
  })
  @ApiResponse({ status: 404, description: 'No holdout was started.' })
  lift(@Query() query: ProgrammeLiftQueryDto) {
    return this.programme.lift(query.by === 'segment');
  }
}
