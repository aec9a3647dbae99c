import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { OptionalNotNull, RequiredString, StringOf } from '@segmenta/contracts';
import type { Source } from './sources.repository';

export class CreateSourceDto {
  @ApiProperty({ example: 'Web shop' })
  @RequiredString(200)
  name!: string;
}

export class UpdateSourceDto {
  @ApiPropertyOptional()
  @OptionalNotNull()
  @StringOf(200)
  name?: string;

  @ApiPropertyOptional({ description: 'A disabled source gets 401 on every tracking call.' })
  @OptionalNotNull()
  @IsBoolean()
  enabled?: boolean;
}

export class SourceDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(source: Source): SourceDto {
    return { id: source.id, name: source.name, enabled: source.enabled, createdAt: source.createdAt.toISOString() };
  }
}

export class SourceWithKeyDto extends SourceDto {
  @ApiProperty({ description: 'Shown once: only its hash is stored.' })
  writeKey!: string;

  static withKey(source: Source, writeKey: string): SourceWithKeyDto {
    return { ...SourceDto.from(source), writeKey };
  }
}
