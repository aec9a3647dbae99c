import { Module } from '@nestjs/common';
import { EarnRulesController, LoyaltyController } from './loyalty.controller';
import { LoyaltyActivityHandler } from './loyalty.handler';
import { LoyaltyRepository } from './loyalty.repository';
import { LoyaltyService } from './loyalty.service';
import { PointsRelease } from './points-release.service';

/** Loyalty (issue 19): the points ledger, earning from orders, spending, adjustments and earn rules. */
@Module({
  controllers: [LoyaltyController, EarnRulesController],
  providers: [LoyaltyRepository, LoyaltyService, LoyaltyActivityHandler, PointsRelease],
})
export class LoyaltyModule {}
