import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ConflictError, NotFoundError, RequireScope } from '@segmenta/chassis';
import { BlockedIdentifierDto } from '../profiles/profiles.dto';
import { BlocklistService, type BlockedIdentifier } from './blocklist.service';

@ApiTags('identity')
@RequireScope('admin')
@Controller('v1/identity/blocklist')
export class BlocklistController {
  constructor(private readonly blocklist: BlocklistService) {}

  @Get()
  @ApiOperation({ summary: 'Identifier values that never link profiles (IDENTITY_BLOCKLIST and API entries)' })
  list(): Promise<BlockedIdentifier[]> {
    return this.blocklist.list();
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Block an identifier value; profiles it linked before stay as they are' })
  add(@Body() body: BlockedIdentifierDto): Promise<BlockedIdentifier> {
    return this.blocklist.add(body.kind.toLowerCase(), body.value, body.reason ?? null);
  }

  @Delete()
  @ApiOperation({ summary: 'Unblock: DELETE /v1/identity/blocklist?kind=email&value=test@example.com' })
  async remove(@Query() query: BlockedIdentifierDto): Promise<{ removed: true }> {
    const kind = query.kind.toLowerCase();
    if (this.blocklist.isConfigured(kind, query.value)) {
      throw new ConflictError(`${kind}:${query.value} comes from IDENTITY_BLOCKLIST; change the configuration to remove it`, [{ field: 'value', problem: 'configured entry' }]);
    }
    if (!(await this.blocklist.remove(kind, query.value))) {
      throw new NotFoundError(`${kind}:${query.value} is not on the block list`, [{ field: 'value', problem: 'not found' }]);
    }
    return { removed: true };
  }
}
