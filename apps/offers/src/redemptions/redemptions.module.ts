import { Module } from '@nestjs/common';
import { LoyaltyModule } from '../loyalty/loyalty.module';
import { ReadModelModule } from '../read-model/read-model.module';
import { RedemptionEligibility, SegmentEligibility } from './redemption-eligibility';
import { RedemptionsController } from './redemptions.controller';
import { RedemptionsRepository } from './redemptions.repository';
import { RedemptionsService } from './redemptions.service';

/**
 * Redemptions (issue 18): budgets, per-customer limits and single-use codes without races (ADR 20);
 * eligibility from the read model of segment memberships.
 */
@Module({
  imports: [ReadModelModule, LoyaltyModule],
  controllers: [RedemptionsController],
  providers: [RedemptionsRepository, RedemptionsService, { provide: RedemptionEligibility, useClass: SegmentEligibility }],
})
export class RedemptionsModule {}
