import 'reflect-metadata';
import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateIf, ValidateNested, validateSync } from 'class-validator';
import { compileValidityCheck } from './compiled-validation';

class Base {
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(5)
  id?: string;

  @ValidateIf((o: Base) => o.other === undefined)
  @IsString()
  one?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;

  /** Not decorated: read by the condition of `one`. */
  other?: string;
}

class Derived extends Base {
  @IsIn(['a', 'b'])
  kind!: string;

  @IsOptional()
  @IsObject()
  props?: Record<string, unknown>;
}

class Nested {
  @ValidateNested()
  child!: Base;
}

const samples: Array<Record<string, unknown>> = [
  { kind: 'a', one: 'x' },
  { kind: 'c', one: 'x' },
  { kind: 'a' },
  { kind: 'a', other: 'y' },
  { kind: 'b', one: 3 },
  { kind: 'a', one: 'x', id: '' },
  { kind: 'a', one: 'x', id: 'toolong' },
  { kind: 'a', one: 'x', id: 7 },
  { kind: 'a', one: 'x', id: null },
  { kind: 'a', one: 'x', at: '2026-02-30T00:00:00Z' },
  { kind: 'a', one: 'x', at: '2026-02-03T00:00:00Z' },
  { kind: 'a', one: 'x', props: [] },
  { kind: 'a', one: 'x', props: { k: 1 } },
  { kind: 'a', one: 'x', unknown: 1 },
];

describe('compileValidityCheck', () => {
  const check = compileValidityCheck(Derived)!;

  it.each(samples.map((s) => [JSON.stringify(s), s]))('decides like class-validator: %s', (_, sample) => {
    const instance = Object.assign(new Derived(), sample);
    const expected = validateSync(instance, { forbidUnknownValues: true, stopAtFirstError: true }).length === 0;
    expect(check(Object.assign(new Derived(), sample) as unknown as Record<string, unknown>)).toBe(expected);
  });

  it('declines what it does not compile', () => {
    expect(compileValidityCheck(Nested)).toBeNull();
  });
});
