import { Module } from '@nestjs/common';
import { BlocklistController } from './blocklist.controller';
import { BlocklistRepository } from './blocklist.repository';
import { BlocklistService } from './blocklist.service';

/** The identifier block list and its admin API. */
@Module({
  controllers: [BlocklistController],
  providers: [BlocklistRepository, BlocklistService],
  exports: [BlocklistService],
})
export class IdentityModule {}
