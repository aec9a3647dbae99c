import 'reflect-metadata';
import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateIf, ValidateNested, validateSync } from 'class-validator';
import { compileValidityCheck } from './compiled-validation';
import { RequiredArray, RequiredString } from './validation-messages';

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

class Required {
  @RequiredString(5)
  name!: string;

  @RequiredArray(2)
  list!: unknown[];
}

const requiredSamples: Array<[Record<string, unknown>, Array<[string, string]>]> = [
  [{ name: 'ada', list: [1] }, []],
  [{ list: [1] }, [['name', 'name is required']]],
  [{ name: null, list: [1] }, [['name', 'name is required']]],
  [{ name: 7, list: [1] }, [['name', 'name must be a string']]],
  [{ name: '', list: [1] }, [['name', 'name must not be empty']]],
  [{ name: 'toolong', list: [1] }, [['name', 'name must be at most 5 characters']]],
  [{ name: 'ada' }, [['list', 'list is required']]],
  [{ name: 'ada', list: 'x' }, [['list', 'list must be an array']]],
  [{ name: 'ada', list: [] }, [['list', 'list must not be empty']]],
  [{ name: 'ada', list: [1, 2, 3] }, [['list', 'list must have at most 2 items']]],
];

describe('RequiredString and RequiredArray', () => {
  const check = compileValidityCheck(Required);

  it.each(requiredSamples.map(([sample, problems]) => [JSON.stringify(sample), sample, problems] as const))(
    'report the first failing question with a message naming the field, and compile to the same decision: %s',
    (_, sample, problems) => {
      const errors = validateSync(Object.assign(new Required(), sample), { forbidUnknownValues: true, stopAtFirstError: true });
      expect(errors.map((e) => [e.property, Object.values(e.constraints ?? {}).join('; ')])).toEqual(problems);
      expect(check?.(Object.assign(new Required(), sample) as unknown as Record<string, unknown>)).toBe(problems.length === 0);
    },
  );
});

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
