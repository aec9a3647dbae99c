import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiGoneResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope, ValidationFailedError } from '@segmenta/chassis';
import { CustomerModelsService, type ModelFitSummary, type ModelReport } from '../features/customer-models.service';
import { FeaturesService, type RecomputeSummary } from '../features/features.service';
import { PropensityService, type PropensityReportDto } from '../features/propensity.service';
import { ErasureResponseDto, EventsPageDto, EventsPageQueryDto, MergeRecordDto, ProfileLookupQueryDto, ProfileResponseDto, RecomputeRequestDto, TrainPropensityDto } from './profiles.dto';
import { ProfilesService } from './profiles.service';

@ApiTags('profiles')
@RequireScope('admin')
@Controller('v1')
export class ProfilesController {
  constructor(
    private readonly profiles: ProfilesService,
    private readonly features: FeaturesService,
    private readonly models: CustomerModelsService,
    private readonly propensity: PropensityService,
  ) {}

  @Get('profiles')
  @ApiOperation({ summary: 'Look a profile up by one identifier: ?userId=, ?email=, ?anonymousId= or ?phone=' })
  @ApiOkResponse({ type: ProfileResponseDto })
  @ApiNotFoundResponse({ description: 'No profile holds this identifier' })
  lookup(@Query() query: ProfileLookupQueryDto): Promise<ProfileResponseDto> {
    return this.profiles.lookup(query);
  }

  @Get('profiles/:id')
  @ApiOperation({ summary: 'A profile with traits, identifiers and features; the id of a merged profile answers with the profile it was merged into' })
  @ApiOkResponse({ type: ProfileResponseDto })
  @ApiGoneResponse({ description: 'The profile was erased' })
  async get(@Param('id') id: string, @Res({ passthrough: true }) response: { setHeader(name: string, value: string): void }): Promise<ProfileResponseDto> {
    const profile = await this.profiles.get(id);
    response.setHeader('Content-Location', `/v1/profiles/${profile.id}`);
    return profile;
  }

  @Get('profiles/:id/events')
  @ApiOperation({ summary: "A profile's events, newest first, with cursor pagination" })
  @ApiOkResponse({ type: EventsPageDto })
  events(@Param('id') id: string, @Query() query: EventsPageQueryDto): Promise<EventsPageDto> {
    return this.profiles.events(id, query.limit ?? 50, query.cursor);
  }

  @Get('profiles/:id/merges')
  @ApiOperation({ summary: 'Merge history: merges into this profile and merges the guards refused' })
  @ApiOkResponse({ type: [MergeRecordDto] })
  merges(@Param('id') id: string): Promise<MergeRecordDto[]> {
    return this.profiles.merges(id);
  }

  @Delete('profiles/:id')
  @ApiOperation({ summary: 'Erase a profile: events, identifiers, traits and features are deleted; profiles.erased is published' })
  @ApiOkResponse({ type: ErasureResponseDto })
  erase(@Param('id') id: string): Promise<ErasureResponseDto> {
    return this.profiles.erase(id);
  }

  @Post('features/recompute')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recompute features now (the schedule does it on FEATURES_REFRESH_CRON)' })
  recompute(@Body() body: RecomputeRequestDto): Promise<RecomputeSummary> {
    return this.features.recompute(body.mode ?? 'refresh');
  }

  @Post('models/fit')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Refit BG/NBD and Gamma-Gamma on every customer with orders now (the schedule does it on CUSTOMER_MODELS_FIT_CRON), then refresh P(alive), expected orders, CLV and churn risk',
  })
  @ApiConflictResponse({ description: 'Too few customers with orders to fit' })
  fitModels(): Promise<ModelFitSummary> {
    return this.models.fit();
  }

  @Get('models')
  @ApiOperation({ summary: 'The customer models in force: parameters, log-likelihood, customers, convergence and fit date' })
  currentModels(): Promise<ModelReport[]> {
    return this.models.current();
  }

  @Post('models/propensity')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Train a propensity model for a yes/no trait, or for ordering within N days, on every profile’s features (held-out AUC, Brier score, calibration) and write its scores as the feature propensity_<name>',
  })
  @ApiConflictResponse({ description: 'Too few profiles with the trait answered yes or no' })
  trainPropensity(@Body() body: TrainPropensityDto): Promise<PropensityReportDto> {
    const { trait, ordersWithinDays } = body.label;
    if ((trait === undefined) === (ordersWithinDays === undefined)) {
      throw new ValidationFailedError('label needs exactly one of trait or ordersWithinDays', [{ field: 'label', problem: 'give exactly one of trait, ordersWithinDays' }]);
    }
    return this.propensity.train(body.name, trait !== undefined ? { trait } : { ordersWithinDays: ordersWithinDays as number }, body.l2 ?? 1);
  }

  @Get('models/propensity')
  @ApiOperation({ summary: 'The propensity models trained so far, with their reports' })
  propensityModels(): Promise<PropensityReportDto[]> {
    return this.propensity.list();
  }
}
