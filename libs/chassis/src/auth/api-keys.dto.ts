import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsDateString, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { API_SCOPES, type ApiKeyRecord, type ApiScope } from './api-key';

/** Default overlap of the old and new secret after a rotation. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
const MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600;

export class CreateApiKeyDto {
  @ApiProperty({ example: 'storefront (production)' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ enum: API_SCOPES, isArray: true, example: ['personalize'] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(API_SCOPES, { each: true, message: `each value must be one of ${API_SCOPES.join(', ')}` })
  scopes!: ApiScope[];

  @ApiPropertyOptional({ description: 'When the key stops working (ISO 8601); unset: never.', example: '2027-06-30T00:00:00Z' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;
}

export class RotateApiKeyDto {
  @ApiPropertyOptional({
    description: `How long the old secret keeps working, in seconds (default ${DEFAULT_ROTATION_GRACE_SECONDS}; 0 ends it at once).`,
    minimum: 0,
    maximum: MAX_ROTATION_GRACE_SECONDS,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_ROTATION_GRACE_SECONDS)
  gracePeriodSeconds?: number;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: API_SCOPES, isArray: true }) scopes!: ApiScope[];
  @ApiProperty({ enum: ['active', 'revoked', 'expired'] }) status!: 'active' | 'revoked' | 'expired';
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional() expiresAt?: string;
  @ApiPropertyOptional() revokedAt?: string;
  @ApiPropertyOptional() rotatedAt?: string;
  @ApiPropertyOptional({ description: 'Until when the secret before the last rotation still works.' }) previousValidUntil?: string;

  /** The public view of a record: never the hashes. */
  static from(record: ApiKeyRecord, now = new Date()): ApiKeyDto {
    const status = record.revokedAt ? 'revoked' : record.expiresAt && Date.parse(record.expiresAt) <= now.getTime() ? 'expired' : 'active';
    const dto = Object.assign(new ApiKeyDto(), { id: record.id, name: record.name, scopes: record.scopes, status, createdAt: record.createdAt });
    if (record.expiresAt) dto.expiresAt = record.expiresAt;
    if (record.revokedAt) dto.revokedAt = record.revokedAt;
    if (record.rotatedAt) dto.rotatedAt = record.rotatedAt;
    if (record.previousValidUntil && Date.parse(record.previousValidUntil) > now.getTime()) dto.previousValidUntil = record.previousValidUntil;
    return dto;
  }
}

export class ApiKeyWithSecretDto extends ApiKeyDto {
  @ApiProperty({ description: 'The secret, shown only in this answer: send it as Authorization: Bearer <secret>.' })
  secret!: string;

  static withSecret(record: ApiKeyRecord, secret: string): ApiKeyWithSecretDto {
    return Object.assign(new ApiKeyWithSecretDto(), ApiKeyDto.from(record), { secret });
  }
}
