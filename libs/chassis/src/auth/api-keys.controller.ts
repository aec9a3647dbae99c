import { Body, Controller, Get, HttpCode, Module, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyDto, ApiKeyWithSecretDto, CreateApiKeyDto, DEFAULT_ROTATION_GRACE_SECONDS, RotateApiKeyDto } from './api-keys.dto';
import { ApiKeysService } from './api-keys.service';
import { RequireScope } from './require-scope';

@ApiTags('api keys (admin)')
@RequireScope('admin')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create a key with scopes admin, personalize and/or read; the secret is in this answer only' })
  @ApiCreatedResponse({ type: ApiKeyWithSecretDto })
  async create(@Body() body: CreateApiKeyDto): Promise<ApiKeyWithSecretDto> {
    const { record, secret } = await this.keys.create(body);
    return ApiKeyWithSecretDto.withSecret(record, secret);
  }

  @Get()
  @ApiOperation({ summary: 'Every key, revoked and expired ones included (never a secret or hash)' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  async list(): Promise<ApiKeyDto[]> {
    return (await this.keys.list()).map((record) => ApiKeyDto.from(record));
  }

  @Get(':id')
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ description: 'No key with this id' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ApiKeyDto> {
    return ApiKeyDto.from(await this.keys.get(id));
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new secret (in this answer only); the old one keeps working for gracePeriodSeconds (default 24 h)' })
  @ApiOkResponse({ type: ApiKeyWithSecretDto })
  @ApiConflictResponse({ description: 'The key is revoked' })
  async rotate(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: RotateApiKeyDto): Promise<ApiKeyWithSecretDto> {
    const { record, secret } = await this.keys.rotate(id, body.gracePeriodSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS);
    return ApiKeyWithSecretDto.withSecret(record, secret);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke the key (and a previous secret in its grace period) on every service within seconds' })
  @ApiOkResponse({ type: ApiKeyDto })
  async revoke(@Param('id', new ParseUUIDPipe()) id: string): Promise<ApiKeyDto> {
    return ApiKeyDto.from(await this.keys.revoke(id));
  }
}

/** The key admin API; one service serves it (ingestion), every service reads the keys. */
@Module({ controllers: [ApiKeysController], providers: [ApiKeysService] })
export class ApiKeysAdminModule {}
