import { Module } from '@nestjs/common';
import { AdminGuard } from '@segmenta/chassis';
import { SourcesController } from './sources.controller';
import { SourcesRepository } from './sources.repository';
import { SourcesService } from './sources.service';

@Module({ controllers: [SourcesController], providers: [SourcesService, SourcesRepository, AdminGuard], exports: [SourcesService] })
export class SourcesModule {}
