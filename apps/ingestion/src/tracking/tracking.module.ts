import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { TrackingController } from './tracking.controller';
import { TrackingService } from './tracking.service';
import { WriteKeyGuard } from './write-key.guard';

@Module({ imports: [SourcesModule], controllers: [TrackingController], providers: [TrackingService, WriteKeyGuard] })
export class TrackingModule {}
