import { Module } from '@nestjs/common';
import { EveryoneEligible, RedemptionEligibility } from './redemption-eligibility';
import { RedemptionsController } from './redemptions.controller';
import { RedemptionsRepository } from './redemptions.repository';
import { RedemptionsService } from './redemptions.service';

/**
 * Redemptions (issue 18): budgets, per-customer limits and single-use codes without races (ADR 20).
 * RedemptionEligibility accepts everyone until the membership read model provides its own.
 */
@Module({
  controllers: [RedemptionsController],
  providers: [RedemptionsRepository, RedemptionsService, { provide: RedemptionEligibility, useClass: EveryoneEligible }],
})
export class RedemptionsModule {}
