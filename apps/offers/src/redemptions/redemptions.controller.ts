import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { REDEMPTION_EXAMPLE, ListRedemptionsQueryDto, RedeemDto } from './redemptions.dto';
import { RedemptionsService } from './redemptions.service';

/** Redemptions: what an app calls at checkout (`personalize`); the GET routes take `read`. */
@ApiTags('redemptions')
@RequireScope('personalize')
@Controller('v1')
export class RedemptionsController {
  constructor(private readonly redemptions: RedemptionsService) {}

  @Post('redemptions')
  @ApiOperation({
    summary:
      'Redeem an offer for a customer, in one transaction: the offer is active and in its window, the budget and the per-customer limit have room, the code is right (a unique code is redeemed once); offers.redeemed (and offers.budget_alert at 80 % and 100 %) go to the outbox with it',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description:
      'A unique value per redemption (a UUID). A retry with the same key and body gets the first answer (status and body, header Idempotent-Replayed: true) and changes nothing; the same key with another body is refused with 422.',
  })
  @ApiResponse({ status: 201, schema: { example: REDEMPTION_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'The body or the Idempotency-Key header is malformed; nothing is stored.' })
  @ApiResponse({ status: 404, description: 'No such offer.' })
  @ApiResponse({
    status: 409,
    description:
      'Refused by the state: details say which (offer not active, offer not started yet, offer has ended, budget exhausted, limit reached, code already redeemed, code reserved for another customer, not eligible). Nothing changes.',
  })
  @ApiResponse({
    status: 422,
    description:
      'The body cannot fit this offer (code not valid for this offer, code required, offer takes no code, wrong currency, orderAmount required), or the Idempotency-Key was used with another body.',
  })
  async redeem(
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: RedeemDto,
    @Res({ passthrough: true }) response: { status(code: number): unknown; setHeader(name: string, value: string): unknown },
  ) {
    const answer = await this.redemptions.redeem(idempotencyKey, body);
    response.status(answer.status);
    if (answer.replayed) response.setHeader('Idempotent-Replayed', 'true');
    return answer.body;
  }

  @Post('redemptions/:id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a redemption (the order was returned): its budget and each customer use are given back; a unique code stays redeemed. Once: a second cancel changes nothing and answers the same.',
  })
  @ApiResponse({ status: 200, schema: { example: { ...REDEMPTION_EXAMPLE, status: 'cancelled', cancelledAt: '2026-12-01T09:00:00.000Z' } } })
  @ApiResponse({ status: 404, description: 'No such redemption.' })
  cancel(@Param('id') id: string) {
    return this.redemptions.cancel(id);
  }

  @Get('redemptions/:id')
  @RequireScope('read')
  @ApiOperation({ summary: 'One redemption' })
  @ApiResponse({ status: 200, schema: { example: REDEMPTION_EXAMPLE } })
  get(@Param('id') id: string) {
    return this.redemptions.get(id);
  }

  @Get('offers/:key/redemptions')
  @RequireScope('read')
  @ApiOperation({ summary: "An offer's redemptions, newest first, filtered by ?status=, cursor-paginated (nextCursor)" })
  @ApiResponse({ status: 200, schema: { example: { redemptions: [REDEMPTION_EXAMPLE], nextCursor: null } } })
  list(@Param('key') key: string, @Query() query: ListRedemptionsQueryDto) {
    return this.redemptions.listForOffer(key, query);
  }
}
