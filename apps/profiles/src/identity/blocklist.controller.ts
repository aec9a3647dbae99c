import { Body, ConflictException, Controller, Delete, Get, HttpCode, NotFoundException, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '@segmenta/chassis';
import { BlockedIdentifierDto } from '../profiles/profiles.dto';
import { BlocklistService, type BlockedIdentifier } from './blocklist.service';

@ApiTags('identity')
@ApiBearerAuth()
@UseGuards(AdminGuard)
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
      throw new ConflictException({ statusCode: 409, error: 'Conflict', message: `${kind}:${query.value} comes from IDENTITY_BLOCKLIST; change the configuration to remove it`, details: [{ field: 'value', problem: 'configured entry' }] });
    }
    if (!(await this.blocklist.remove(kind, query.value))) {
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `${kind}:${query.value} is not on the block list`, details: [{ field: 'value', problem: 'not found' }] });
    }
    return { removed: true };
  }
}
