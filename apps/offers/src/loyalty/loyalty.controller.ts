import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CallerKeyId, RequireScope } from '@segmenta/chassis';
import { AdjustPointsDto, CreateEarnRuleDto, EarnRuleBodyDto, LOYALTY_EXAMPLE, LoyaltyHistoryQueryDto, LoyaltyProgramDto, RedeemPointsDto, TierDto } from './loyalty.dto';
import { LoyaltyService, type PointsChangeAnswer } from './loyalty.service';

type Response = { status(code: number): unknown; setHeader(name: string, value: string): unknown };

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: true,
  description:
    'A unique value per request (a UUID). A retry with the same key gets the first answer (header Idempotent-Replayed: true) and changes nothing; the same key with another body is refused with 422.',
};

const ENTRY_EXAMPLE = { ...LOYALTY_EXAMPLE.history[0], kind: 'redeem', availableDelta: -500, pendingDelta: 0, cause: 'request:5f1c…', details: null, available: 750, pending: 300 };

function answer(response: Response, result: PointsChangeAnswer) {
  response.status(result.status);
  if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
  return result.body;
}

/** A customer's points: what an app reads and spends (`personalize`), what the loyalty team adjusts (`admin`). */
@ApiTags('loyalty')
@RequireScope('personalize')
@Controller('v1')
export class LoyaltyController {
  constructor(private readonly loyalty: LoyaltyService) {}

  @Get('customers/:id/loyalty')
  @RequireScope('read')
  @ApiOperation({
    summary: "A customer's loyalty: available and pending points (with when they become available), points ever earned, tier, and the ledger newest first, cursor-paginated (nextCursor)",
  })
  @ApiResponse({ status: 200, schema: { example: LOYALTY_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'id is not a UUID, or the cursor is not a nextCursor.' })
  customer(@Param('id') id: string, @Query() query: LoyaltyHistoryQueryDto) {
    return this.loyalty.customer(id, query);
  }

  @Post('loyalty/redemptions')
  @ApiOperation({ summary: 'Spend available points (never below zero, also under concurrent spends); loyalty.points goes to the outbox with the ledger entry' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiResponse({ status: 201, schema: { example: ENTRY_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'The body or the Idempotency-Key header is malformed; nothing changes.' })
  @ApiResponse({
    status: 409,
    description: 'The available balance does not cover the points (details say how many are available and pending); nothing changes.',
  })
  @ApiResponse({ status: 422, description: 'The Idempotency-Key was used with another body; nothing changes.' })
  async redeem(@Headers('idempotency-key') idempotencyKey: string | undefined, @Body() body: RedeemPointsDto, @Res({ passthrough: true }) response: Response) {
    return answer(response, await this.loyalty.redeem(idempotencyKey, body));
  }

  @Post('loyalty/adjustments')
  @RequireScope('admin')
  @ApiOperation({ summary: "Add or take away available points by hand, with a reason (required) and the admin key's id in the ledger" })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiResponse({ status: 201, schema: { example: { ...ENTRY_EXAMPLE, kind: 'adjust', availableDelta: 250, reason: 'Goodwill: parcel arrived late (ticket 8812)' } } })
  @ApiResponse({ status: 400, description: 'No reason, points 0 or not whole, or a malformed Idempotency-Key.' })
  @ApiResponse({ status: 409, description: 'A deduction beyond the available balance; nothing changes.' })
  @ApiResponse({ status: 422, description: 'The Idempotency-Key was used with another body; nothing changes.' })
  async adjust(@Headers('idempotency-key') idempotencyKey: string | undefined, @Body() body: AdjustPointsDto, @CallerKeyId() keyId: string, @Res({ passthrough: true }) response: Response) {
    return answer(response, await this.loyalty.adjust(idempotencyKey, body, keyId));
  }

  @Get('loyalty/ledger-check')
  @RequireScope('admin')
  @ApiOperation({
    summary:
      "Proves that every account's balances equal the sums of its ledger, and what its lots of points have left (spends and expiries take the oldest first): ok, the number of accounts, and the accounts that differ (none, unless something bypassed the service)",
  })
  @ApiResponse({ status: 200, schema: { example: { ok: true, accounts: 1200, mismatches: [] } } })
  ledgerCheck() {
    return this.loyalty.ledgerCheck();
  }

  @Get('loyalty/program')
  @RequireScope('read')
  @ApiOperation({ summary: "The programme's settings: the return window (days an order's points stay pending) and the caps per order and per day" })
  @ApiResponse({ status: 200, schema: { example: { returnWindowDays: 14, capPerOrder: null, capPerDay: 10000, updatedAt: '2026-12-03T10:00:00.000Z' } } })
  program() {
    return this.loyalty.program();
  }

  @Put('loyalty/program')
  @RequireScope('admin')
  @ApiOperation({ summary: "Sets the programme's settings (orders earned before keep the window they were given)" })
  @ApiResponse({ status: 200, schema: { example: { returnWindowDays: 14, capPerOrder: null, capPerDay: 10000, updatedAt: '2026-12-03T10:00:00.000Z' } } })
  updateProgram(@Body() body: LoyaltyProgramDto) {
    return this.loyalty.updateProgram(body);
  }
}

const EARN_RULE_EXAMPLE = {
  key: 'camera-fans-double',
  name: 'Camera fans earn double',
  rule: { type: 'segment_multiplier', segment: 'camera-fans', multiplier: 2 },
  active: true,
  createdAt: '2026-12-03T10:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};

/** Earn rules (scope `admin`; `read` may list): the base rate per currency, multipliers by segment and by product category. */
@ApiTags('loyalty')
@RequireScope('admin')
@Controller('v1/earn-rules')
export class EarnRulesController {
  constructor(private readonly loyalty: LoyaltyService) {}

  @Post()
  @ApiOperation({
    summary:
      'Create an earn rule: base (points per whole unit of a currency of Order Completed revenue), segment_multiplier (the best of the customer’s segments multiplies the order’s points) or category_multiplier (products of the category earn that many times the base rate)',
  })
  @ApiResponse({ status: 201, schema: { example: EARN_RULE_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'The key is taken.' })
  create(@Body() body: CreateEarnRuleDto) {
    return this.loyalty.createEarnRule(body);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Every earn rule, by key' })
  @ApiResponse({ status: 200, schema: { example: { earnRules: [EARN_RULE_EXAMPLE] } } })
  list() {
    return this.loyalty.listEarnRules();
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'One earn rule' })
  @ApiResponse({ status: 200, schema: { example: EARN_RULE_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such rule.' })
  get(@Param('key') key: string) {
    return this.loyalty.earnRule(key);
  }

  @Put(':key')
  @ApiOperation({ summary: 'Replace an earn rule (orders earned before keep their points)' })
  @ApiResponse({ status: 200, schema: { example: EARN_RULE_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such rule.' })
  replace(@Param('key') key: string, @Body() body: EarnRuleBodyDto) {
    return this.loyalty.replaceEarnRule(key, body);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an earn rule' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'No such rule.' })
  async remove(@Param('key') key: string): Promise<void> {
    await this.loyalty.deleteEarnRule(key);
  }
}

const TIER_EXAMPLE = { key: 'gold', name: 'Gold', rank: 3, minPoints: 5000, minSpend: { amount: 2000, currency: 'EUR' }, updatedAt: '2026-12-03T10:00:00.000Z' };

/** Tiers (scope `admin`; `read` may list): qualify by points earned or spend in the rolling window. */
@ApiTags('loyalty')
@RequireScope('admin')
@Controller('v1/tiers')
export class TiersController {
  constructor(private readonly loyalty: LoyaltyService) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Every tier, lowest rank first' })
  @ApiResponse({ status: 200, schema: { example: { tiers: [TIER_EXAMPLE] } } })
  list() {
    return this.loyalty.listTiers();
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'One tier' })
  @ApiResponse({ status: 200, schema: { example: TIER_EXAMPLE } })
  @ApiResponse({ status: 404, description: 'No such tier.' })
  get(@Param('key') key: string) {
    return this.loyalty.tier(key);
  }

  @Put(':key')
  @ApiOperation({
    summary:
      'Create or replace a tier: a customer is upgraded at once when their points earned (or spend) in the rolling window reach it, and lowered only at their review date after the grace period (the programme’s tierWindowDays and tierGraceDays)',
  })
  @ApiResponse({ status: 200, schema: { example: TIER_EXAMPLE } })
  @ApiResponse({ status: 409, description: 'Another tier holds the rank.' })
  put(@Param('key') key: string, @Body() body: TierDto) {
    return this.loyalty.putTier(key, body);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tier (customers holding it fall back at their next review)' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'No such tier.' })
  async remove(@Param('key') key: string): Promise<void> {
    await this.loyalty.deleteTier(key);
  }
}
