import { Module } from '@nestjs/common';
import { EarnRulesController, LoyaltyController, TiersController } from './loyalty.controller';
import { LoyaltyActivityHandler } from './loyalty.handler';
import { LoyaltyRepository } from './loyalty.repository';
import { LoyaltyService } from './loyalty.service';
import { LoyaltyJobs } from './loyalty-jobs.service';
import { ProgrammeHoldoutReader } from '../personalization/programme-holdout';

/** Loyalty (issue 19): the points ledger, earning from orders, spending, adjustments and earn rules. */
@Module({
  controllers: [LoyaltyController, EarnRulesController, TiersController],
  providers: [LoyaltyRepository, LoyaltyService, LoyaltyActivityHandler, LoyaltyJobs, ProgrammeHoldoutReader],
  exports: [LoyaltyService],
})
export class LoyaltyModule {}
