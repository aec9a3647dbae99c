import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@segmenta/chassis';
import { CreateSourceDto, SourceDto, SourceWithKeyDto, UpdateSourceDto } from './sources.dto';
import { SourcesService } from './sources.service';

@ApiTags('sources (admin)')
@RequireScope('admin')
@Controller('v1/sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Post()
  @ApiCreatedResponse({ type: SourceWithKeyDto })
  async create(@Body() body: CreateSourceDto): Promise<SourceWithKeyDto> {
    const { source, writeKey } = await this.sources.create(body.name);
    return SourceWithKeyDto.withKey(source, writeKey);
  }

  @Get()
  @ApiOkResponse({ type: [SourceDto] })
  async list(): Promise<SourceDto[]> {
    return (await this.sources.list()).map((source) => SourceDto.from(source));
  }

  @Patch(':id')
  @ApiOkResponse({ type: SourceDto })
  async update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateSourceDto): Promise<SourceDto> {
    return SourceDto.from(await this.sources.update(id, body));
  }

  @Post(':id/rotate-key')
  @HttpCode(200)
  @ApiOkResponse({ type: SourceWithKeyDto })
  async rotateKey(@Param('id', new ParseUUIDPipe()) id: string): Promise<SourceWithKeyDto> {
    const { source, writeKey } = await this.sources.rotateKey(id);
    return SourceWithKeyDto.withKey(source, writeKey);
  }
}
