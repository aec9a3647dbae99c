import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { ResultsFeedController } from './results-feed.controller';
import { ResultsFeedService } from './results-feed.service';

/** experiments.results: results by segment on a schedule and on demand (issue 22). */
@Module({ imports: [ExperimentsModule], controllers: [ResultsFeedController], providers: [ResultsFeedService] })
export class ResultsFeedModule {}
