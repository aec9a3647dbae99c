import { Module } from '@nestjs/common';
import { JourneysController } from './journeys.controller';
import { JourneysRepository } from './journeys.repository';
import { JourneysService } from './journeys.service';

/** Journeys (issue 20): definitions and their versions so far; enrollment, execution and delivery come next. */
@Module({
  controllers: [JourneysController],
  providers: [JourneysRepository, JourneysService],
})
export class JourneysModule {}
