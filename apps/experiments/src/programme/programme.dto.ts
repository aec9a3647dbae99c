import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class ProgrammeHoldoutDto {
  @ApiProperty({ description: 'The share of all customers held out of the whole programme (no personalized offers, base earning only, no journeys)', example: 0.05 })
  @IsNumber()
  @Min(0.001)
  @Max(0.5)
  share!: number;

  @ApiPropertyOptional({ description: 'The hashing seed (default programme-holdout); GrowthBook SDKs given it pick the same customers', example: 'programme-holdout' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  seed?: string;
}

export class ProgrammeLiftQueryDto {
  @ApiPropertyOptional({ enum: ['segment'], description: 'segment: a row per segment the customers were in when first seen, p-values corrected over the segments (Holm)' })
  @IsOptional()
  @IsIn(['segment'])
  by?: 'segment';
}
