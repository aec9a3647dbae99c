import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ExperimentsModule } from '../experiments/experiments.module';
import { ResultsFeedController } from './results-feed.controller';
import { ResultsFeedRepository } from './results-feed.repository';
import { ResultsFeedService } from './results-feed.service';

/** experiments.results: results by segment on a schedule and on demand (issue 22). */
@Module({ imports: [ScheduleModule.forRoot(), ExperimentsModule], controllers: [ResultsFeedController], providers: [ResultsFeedRepository, ResultsFeedService] })
export class ResultsFeedModule {}
