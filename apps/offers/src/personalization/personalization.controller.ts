import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { CustomerOffersByIdentifierQueryDto, CustomerOffersQueryDto, MATRIX_EXAMPLE, MatrixQueryDto, PERSONALIZED_EXAMPLE } from './personalization.dto';
import { PersonalizationService } from './personalization.service';

const OFFERS_SUMMARY =
  'ranked by priority, then expected value (the reward worth to this customer × their redemption propensity); each with the reasons it applies and its code (a unique code is reserved for the customer on first serve and comes back on every later request). Eligible, active, inside the window, with budget left, not used up by the customer; an unknown visitor gets the offers for everyone. Recorded as an offers.served exposure.';

/**
 * Personalized offers: what an app asks (`personalize`) to show a customer; the personalization
 * matrix is for the loyalty team (`read`).
 */
@ApiTags('personalization')
@RequireScope('personalize')
@Controller('v1')
export class PersonalizationController {
  constructor(private readonly personalization: PersonalizationService) {}

  // Not for `read` keys: an answer reserves codes and records an exposure.
  @RequireScope('personalize', { changesState: true })
  @Get('customers/offers')
  @ApiOperation({ summary: `The offers for a customer named by exactly one of ?userId=, ?anonymousId=, ?email= (as the app knows them), ${OFFERS_SUMMARY}` })
  @ApiResponse({ status: 200, schema: { example: PERSONALIZED_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'None or several of userId, anonymousId, email; an unknown placement; limit outside 1–50.' })
  byIdentifier(@Query() query: CustomerOffersByIdentifierQueryDto) {
    return this.personalization.forIdentifier(query);
  }

  @RequireScope('personalize', { changesState: true })
  @Get('customers/:id/offers')
  @ApiOperation({ summary: `The offers for a customer by profile id, ${OFFERS_SUMMARY}` })
  @ApiParam({ name: 'id', description: 'The profile id (a UUID); a merged-away id answers for its survivor.', example: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d' })
  @ApiResponse({ status: 200, schema: { example: PERSONALIZED_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'id is not a UUID; an unknown placement; limit outside 1–50.' })
  byProfileId(@Param('id') id: string, @Query() query: CustomerOffersQueryDto) {
    return this.personalization.forProfile(id, query);
  }

  @Get('personalization-matrix')
  @RequireScope('read')
  @ApiOperation({
    summary:
      'For each segment the offers name (and no segment) × lifecycle stage, the active offers that apply, in priority order: JSON, or CSV (a row per segment, a column per stage) with ?format=csv or Accept: text/csv',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiHeader({ name: 'Accept', required: false, description: 'text/csv for the spreadsheet form' })
  @ApiResponse({
    status: 200,
    content: {
      'application/json': { example: MATRIX_EXAMPLE },
      'text/csv': { example: 'segment,key,prospect,new,active,loyal,at risk,lapsed\r\n(no segment),,5 € off your next order,…\r\nCamera intent,camera-intent,…\r\n' },
    },
  })
  async matrix(@Query() query: MatrixQueryDto, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) response: { setHeader(name: string, value: string): unknown }) {
    const csv = query.format === 'csv' || (query.format === undefined && /\btext\/csv\b/i.test(accept ?? ''));
    if (!csv) return this.personalization.matrix();
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', 'attachment; filename="personalization-matrix.csv"');
    return this.personalization.matrixCsv();
  }
}
