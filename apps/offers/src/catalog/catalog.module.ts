import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { CouponPoolsService } from './coupon-pools.service';
import { OfferSchedule } from './offer-schedule.service';
import { TextUploadMiddleware } from './coupon-upload';
import { OffersController } from './offers.controller';
import { OffersRepository } from './offers.repository';
import { OffersService } from './offers.service';

/** The offer catalog: offers, their status, coupon pools and audit trail (issue 18, first part). */
@Module({
  controllers: [OffersController],
  providers: [OffersRepository, OffersService, CouponPoolsService, OfferSchedule],
  exports: [OffersService],
})
export class CatalogModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Code lists arrive as text/csv or text/plain too: read those bodies on this route only.
    consumer.apply(TextUploadMiddleware).forRoutes({ path: 'v1/offers/:key/codes', method: RequestMethod.POST });
  }
}
