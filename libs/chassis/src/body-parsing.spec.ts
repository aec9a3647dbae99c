import { bodyReadError, pathDeeperThan, StorableTextPipe } from './body-parsing';
import { ValidationFailedError } from './domain-errors';

describe('pathDeeperThan', () => {
  it('counts the body as level 1 and names the first value past the limit', () => {
    expect(pathDeeperThan({ a: 1 }, 1)).toBeUndefined();
    expect(pathDeeperThan({ a: {} }, 1)).toBe('a');
    expect(pathDeeperThan({ a: [{ b: [1] }] }, 3)).toBe('a[0].b');
    expect(pathDeeperThan({ a: [{ b: [1] }] }, 4)).toBeUndefined();
    expect(pathDeeperThan([[[]]], 2)).toBe('[0][0]');
  });

  it('stops at the limit, however deep the value goes', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(pathDeeperThan(deep, 64)).toBe('[0]'.repeat(64));
  });

  it('ignores scalars', () => {
    expect(pathDeeperThan('x', 1)).toBeUndefined();
    expect(pathDeeperThan(null, 1)).toBeUndefined();
    expect(pathDeeperThan(undefined, 1)).toBeUndefined();
  });
});

describe('bodyReadError', () => {
  it('turns a body that does not inflate into a 400 naming the encoding', () => {
    const zlib = Object.assign(new Error('incorrect header check'), { status: 400, code: 'Z_DATA_ERROR' });
    const error = bodyReadError(zlib, 'GZIP');
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect(error).toMatchObject({ message: expect.stringContaining('not valid gzip data'), details: [{ field: 'body', problem: 'is not valid gzip data' }] });
  });

  it("leaves body-parser's typed errors alone", () => {
    const tooLarge = Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' });
    expect(bodyReadError(tooLarge, 'gzip')).toBe(tooLarge);
    const parse = Object.assign(new Error('bad json'), { status: 400, type: 'entity.parse.failed' });
    expect(bodyReadError(parse, undefined)).toBe(parse);
  });
});

describe('StorableTextPipe', () => {
  const pipe = new StorableTextPipe();

  it('names the path parameter, query field or body field', () => {
    expect(() => pipe.transform('a\u0000b', { type: 'param', data: 'id' })).toThrow(/id contains a NUL character/);
    expect(() => pipe.transform({ userId: '\ud800' }, { type: 'query' })).toThrow(/userId contains a lone surrogate/);
    expect(() => pipe.transform({ definition: { all: [{ trait: 'x', value: '\u0000' }] } }, { type: 'body' })).toThrow(/definition\.all\[0\]\.value contains a NUL/);
  });

  it('passes clean values and leaves custom parameters to their route', () => {
    expect(pipe.transform({ name: 'Zoë 😀' }, { type: 'body' })).toEqual({ name: 'Zoë 😀' });
    expect(pipe.transform({ batch: ['\u0000'] }, { type: 'custom' })).toEqual({ batch: ['\u0000'] });
  });
});
