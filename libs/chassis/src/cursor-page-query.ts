import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * The query of a cursor-paginated list (`?limit=&cursor=`), validated: each list names its own
 * default and largest page (`class EventsPageQueryDto extends CursorPageQuery({ defaultLimit: 50, maxLimit: 500 }) {}`).
 */
export function CursorPageQuery(options: { defaultLimit: number; maxLimit: number }) {
  class CursorPageQueryDto {
    @ApiPropertyOptional({ default: options.defaultLimit, minimum: 1, maximum: options.maxLimit })
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(options.maxLimit)
    limit?: number;

    @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
    @IsOptional()
    @IsString()
    @MaxLength(200)
    cursor?: string;
  }
  return CursorPageQueryDto;
}
