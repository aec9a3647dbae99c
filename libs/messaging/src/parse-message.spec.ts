import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsString, Min, ValidateNested } from 'class-validator';
import { NonRetryableMessageError } from './errors';
import { assertMessageData, parseMessageData } from './parse-message';

class Line {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}

class OrderPlaced {
  @IsString() orderId!: string;
  @IsInt() amountMinor!: number;
  @IsISO8601() at!: string;
}

/** Nested validation: the compiled check declines it, class-validator decides. */
class OrderWithLines {
  @IsString() orderId!: string;
  @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}

const thrown = (fn: () => void): Error | undefined => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  return undefined;
};

describe('assertMessageData', () => {
  it('accepts valid data without copying it', () => {
    const data: unknown = { orderId: 'o-1', amountMinor: 1999, at: '2026-12-01T10:00:00Z' };
    expect(thrown(() => assertMessageData(OrderPlaced, data))).toBeUndefined();
  });

  it('rejects invalid data with the same non-retryable error as parseMessageData', () => {
    const data = { orderId: 42, amountMinor: 'ten', at: 'yesterday' };
    const fast = thrown(() => assertMessageData(OrderPlaced, data));
    const full = thrown(() => parseMessageData(OrderPlaced, data));
    expect(fast).toBeInstanceOf(NonRetryableMessageError);
    expect(fast?.message).toBe(full?.message);
    expect(fast?.message).toMatch(/orderId: orderId must be a string.*amountMinor: amountMinor must be an integer.*at: at must be a valid ISO 8601/);
  });

  it('rejects data that is not an object', () => {
    expect(thrown(() => assertMessageData(OrderPlaced, 'o-1'))?.message).toBe('OrderPlaced: message data must be an object');
    expect(thrown(() => assertMessageData(OrderPlaced, null))).toBeInstanceOf(NonRetryableMessageError);
  });

  it('validates nested DTOs through class-validator', () => {
    expect(thrown(() => assertMessageData(OrderWithLines, { orderId: 'o-2', lines: [{ sku: 'a', quantity: 2 }] }))).toBeUndefined();
    expect(thrown(() => assertMessageData(OrderWithLines, { orderId: 'o-2', lines: [{ sku: 'a', quantity: 0 }] }))?.message).toMatch(/lines\.0\.quantity: quantity must not be less than 1/);
  });
});
