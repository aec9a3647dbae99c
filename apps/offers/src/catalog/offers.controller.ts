import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CallerKeyId, RequireScope } from '@segmenta/chassis';
import { CodesBodyPipe } from './coupon-upload';
import { CouponPoolsService } from './coupon-pools.service';
import { AddCodesDto, ChangeStatusDto, CreateOfferDto, ListOffersQueryDto, OFFER_EXAMPLE, PageQueryDto, UpdateOfferDto } from './offers.dto';
import { OffersService } from './offers.service';

/**
 * The offer catalog. Configuration needs `admin`; the GET routes also take `read` (dashboards, the
 * console). Every change is audited with the caller's API key id.
 */
@ApiTags('offers')
@RequireScope('admin')
@Controller('v1/offers')
export class OffersController {
  constructor(
    private readonly offers: OffersService,
    private readonly pools: CouponPoolsService,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Offers in key order, filtered by ?status= and ?placement=, cursor-paginated (nextCursor)' })
  @ApiResponse({ status: 200, schema: { example: { offers: [OFFER_EXAMPLE], nextCursor: null } } })
  list(@Query() query: ListOffersQueryDto) {
    return this.offers.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create an offer (a draft); its segment references are announced to segmentation in the same transaction' })
  @ApiResponse({ status: 201, schema: { example: OFFER_EXAMPLE } })
  @ApiResponse({ status: 400, description: 'A field is wrong: details name each one (reward.percent, placements[1], endsAt, …); nothing is saved.' })
  @ApiResponse({ status: 409, description: 'The key is taken.' })
  create(@Body() body: CreateOfferDto, @CallerKeyId() actor: string) {
    return this.offers.create(body, actor);
  }

  @Get(':key')
  @RequireScope('read')
  @ApiOperation({ summary: 'One offer' })
  @ApiResponse({ status: 200, schema: { example: OFFER_EXAMPLE } })
  get(@Param('key') key: string) {
    return this.offers.get(key);
  }

  @Patch(':key')
  @ApiOperation({ summary: 'Change some fields (each given field replaces the stored one; null clears categories, endsAt, budget, perCustomerLimit); key and status do not change here' })
  @ApiResponse({ status: 200, schema: { example: { ...OFFER_EXAMPLE, priority: 20, revision: 2 } } })
  @ApiResponse({ status: 409, description: 'The offer has ended, or it has unique codes and the coupon type would change.' })
  update(@Param('key') key: string, @Body() body: UpdateOfferDto, @CallerKeyId() actor: string) {
    return this.offers.update(key, body, actor);
  }

  @Post(':key/status')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move to another status: draft → scheduled|active; scheduled → draft|active|paused|ended; active → paused|ended; paused → active|ended; ended is final' })
  @ApiResponse({ status: 200, schema: { example: { ...OFFER_EXAMPLE, status: 'active', revision: 2 } } })
  @ApiResponse({ status: 409, description: 'The transition is not allowed (the message lists the allowed targets), the window has passed, or a unique-code offer has no codes.' })
  changeStatus(@Param('key') key: string, @Body() body: ChangeStatusDto, @CallerKeyId() actor: string) {
    return this.offers.changeStatus(key, body.status, actor);
  }

  @Delete(':key')
  @ApiOperation({ summary: 'Delete a draft (with its codes); any other offer is ended instead (409). The audit trail stays.' })
  @ApiResponse({ status: 200, schema: { example: { deleted: true, key: 'black-friday-cameras' } } })
  delete(@Param('key') key: string, @CallerKeyId() actor: string) {
    return this.offers.delete(key, actor);
  }

  @Get(':key/history')
  @RequireScope('read')
  @ApiOperation({ summary: 'Every change to the offer, newest first: who (API key id), when, what (field → from/to); cursor-paginated' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        changes: [{ seq: 7, action: 'updated', actor: '0192f0c4-5b1e-7c39-8d2a-3f5e6a7b8c9d', at: '2026-11-02T10:00:00.000Z', changes: { priority: { from: 10, to: 20 } } }],
        nextCursor: null,
      },
    },
  })
  history(@Param('key') key: string, @Query() query: PageQueryDto) {
    return this.offers.history(key, query.cursor, query.limit ?? 100);
  }

  @Post(':key/codes')
  @ApiOperation({
    summary:
      'Add unique codes: { generate: { count, prefix, length } } draws random codes; { codes: [...] }, or a text/csv or text/plain body with one code per line, uploads them — all or nothing, each malformed or duplicate code reported. idempotencyKey makes a retry harmless.',
  })
  @ApiConsumes('application/json', 'text/csv', 'text/plain')
  @ApiBody({
    type: AddCodesDto,
    examples: { generate: { value: { generate: { count: 1000, prefix: 'BF26-', length: 10 }, idempotencyKey: 'bf26-batch-1' } }, upload: { value: { codes: ['SPRING-7KQ2M9', 'SPRING-X4HT8P'] } } },
  })
  @ApiResponse({ status: 201, schema: { example: { added: 1000, source: 'generated', batch: 'bf26-batch-1', replayed: false, counts: { available: 1000, reserved: 0, redeemed: 0, total: 1000 } } } })
  @ApiResponse({ status: 400, description: 'Malformed or duplicate codes (details: codes[i] or "line n"); nothing was stored.' })
  @ApiResponse({ status: 409, description: 'The offer does not use unique codes, or has ended.' })
  addCodes(@Param('key') key: string, @Body(CodesBodyPipe) body: AddCodesDto | string, @CallerKeyId() actor: string) {
    return this.pools.add(key, body, actor);
  }

  @Get(':key/codes')
  @RequireScope('read')
  @ApiOperation({ summary: 'The pool: counts (available, reserved, redeemed) and the codes in code order, cursor-paginated' })
  @ApiResponse({
    status: 200,
    schema: {
      example: {
        counts: { available: 2, reserved: 0, redeemed: 0, total: 2 },
        codes: [{ code: 'BF26-7KQ2M9XH4T', status: 'available', source: 'generated', createdAt: '2026-11-01T09:00:00.000Z' }],
        nextCursor: null,
      },
    },
  })
  codes(@Param('key') key: string, @Query() query: PageQueryDto) {
    return this.pools.list(key, query.cursor, query.limit ?? 100);
  }
}
