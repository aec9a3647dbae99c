import { Module } from '@nestjs/common';
import { SourcesController } from './sources.controller';
import { SourcesRepository } from './sources.repository';
import { SourcesService } from './sources.service';

@Module({ controllers: [SourcesController], providers: [SourcesService, SourcesRepository], exports: [SourcesService] })
export class SourcesModule {}
