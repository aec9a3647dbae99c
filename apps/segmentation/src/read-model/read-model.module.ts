import { Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { LoyaltyTierHandler, ReadModelHandler } from './read-model.handler';
import { ReadModelRepository } from './read-model.repository';
import { ReadModelService } from './read-model.service';

/** The read model of profiles, fed by the PROFILES stream, re-evaluating memberships per batch. */
@Module({ imports: [MembershipModule], providers: [ReadModelRepository, ReadModelService, ReadModelHandler, LoyaltyTierHandler] })
export class ReadModelModule {}
