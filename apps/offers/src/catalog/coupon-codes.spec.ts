import { CODE_ALPHABET, checkUploadedCodes, codeSpaceProblem, generateCodes, randomCodeBody, splitTextUpload } from './coupon-codes';

describe('generateCodes', () => {
  it('draws 100,000 distinct codes of the prefix and length, from the unambiguous alphabet only', () => {
    const codes = generateCodes(100_000, { prefix: 'BF26-', length: 10 });
    expect(codes).toHaveLength(100_000);
    expect(new Set(codes).size).toBe(100_000);
    const shape = new RegExp(`^BF26-[${CODE_ALPHABET}]{10}$`);
    expect(codes.every((code) => shape.test(code))).toBe(true);
    expect(codes.some((code) => /[01OIL]/.test(code.slice(5)))).toBe(false);
  });

  it('never returns a code already taken, drawing again on a collision', () => {
    // A source that repeats: the first body collides with the taken code, the next one is new.
    const bytes = [Buffer.alloc(12, 0), Buffer.alloc(12, 0), Buffer.alloc(12, 1)];
    const random = () => bytes.shift() ?? Buffer.alloc(12, 2);
    expect(generateCodes(2, { prefix: '', length: 6, taken: new Set(['AAAAAA']), random })).toEqual(['BBBBBB', 'CCCCCC']);
  });

  it('skips bytes that would bias the alphabet (rejection sampling)', () => {
    const random = (size: number) => Buffer.from([255, 248, 0, 30, ...Array<number>(size).fill(1)]);
    expect(randomCodeBody(3, random)).toBe(`A${CODE_ALPHABET[30]}B`);
  });

  it('uses every symbol about equally often', () => {
    const counts = new Map<string, number>();
    for (const ch of randomCodeBody(310_000)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(CODE_ALPHABET.length);
    for (const n of counts.values()) expect(Math.abs(n - 10_000)).toBeLessThan(600);
  });
});

describe('codeSpaceProblem', () => {
  it('wants at most one valid code per million guesses', () => {
    expect(codeSpaceProblem(100_000, 10)).toBeUndefined();
    expect(codeSpaceProblem(100_000, 6)).toMatch(/use a longer length/);
    expect(codeSpaceProblem(800, 6)).toBeUndefined();
    expect(codeSpaceProblem(800, 6, 100)).toMatch(/900 codes/);
  });
});

describe('checkUploadedCodes', () => {
  it('normalises to upper case and reports malformed entries, duplicates and codes already in the pool, each by field', () => {
    const result = checkUploadedCodes(['abc-123', 'ABC-123', 'x', 42, 'TAKEN1', 'ok_code'], new Set(['TAKEN1']), (i) => `codes[${i}]`);
    expect(result.codes).toEqual(['ABC-123', 'OK_CODE']);
    expect(result.problems).toEqual([
      { field: 'codes[1]', problem: 'duplicates codes[0] (ABC-123)' },
      { field: 'codes[2]', problem: 'must be 3 to 64 letters, digits, - or _, starting with a letter or digit' },
      { field: 'codes[3]', problem: 'must be a string' },
      { field: 'codes[4]', problem: "TAKEN1 is already in this offer's pool" },
    ]);
  });
});

describe('splitTextUpload', () => {
  it('reads one code per line, the first CSV column, skips blanks and a header, and keeps line numbers', () => {
    expect(splitTextUpload('code,batch\r\nAAA111,x\n\n"BBB222",y\nCCC333\n')).toEqual([
      { line: 2, value: 'AAA111' },
      { line: 4, value: 'BBB222' },
      { line: 5, value: 'CCC333' },
    ]);
  });
});
