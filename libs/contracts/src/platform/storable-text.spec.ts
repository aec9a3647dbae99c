import { findUnstorableText, unstorableTextProblem } from './storable-text';

describe('unstorableTextProblem', () => {
  it.each([
    ['plain', 'Order Completed'],
    ['accents and CJK', 'Zoë 東京'],
    ['an emoji (a surrogate pair)', 'I \ud83d\ude00 it'],
    ['other control characters', 'tab\there\u0001\u001f'],
    ['the empty string', ''],
  ])('accepts %s', (_what, text) => {
    expect(unstorableTextProblem(text)).toBeUndefined();
  });

  it.each([
    ['a NUL', 'a\u0000b', /NUL character \(\\u0000\) at position 1/],
    ['a lone high surrogate', 'x\ud800', /lone surrogate \(\\ud800\) at position 1/],
    ['a lone low surrogate', '\udc00x', /lone surrogate \(\\udc00\) at position 0/],
    ['a high surrogate followed by another high one', '\ud83d\ud83d\ude00', /lone surrogate \(\\ud83d\) at position 0/],
    ['a pair in the wrong order', '\ude00\ud83d', /lone surrogate \(\\ude00\) at position 0/],
  ])('refuses %s', (_what, text, problem) => {
    expect(unstorableTextProblem(text)).toMatch(problem);
  });
});

describe('findUnstorableText', () => {
  it('names the path of a bad value', () => {
    expect(findUnstorableText({ userId: 'u', properties: { items: [{ sku: 'a' }, { sku: 'b\u0000' }] } })).toEqual({
      field: 'properties.items[1].sku',
      problem: expect.stringMatching(/NUL/),
    });
  });

  it('names the object holding a bad key, and shows the key escaped', () => {
    expect(findUnstorableText({ traits: { ['e\u0000mail']: 'x' } })).toEqual({ field: 'traits', problem: expect.stringContaining('"e\\u0000mail"') });
    expect(findUnstorableText({ ['\ud800']: 1 })).toEqual({ field: 'body', problem: expect.stringContaining('"\\ud800"') });
  });

  it('puts the path under a root', () => {
    expect(findUnstorableText({ name: '\u0000' }, 'batch[3]')).toEqual({ field: 'batch[3].name', problem: expect.any(String) });
    expect(findUnstorableText('\u0000', 'id')).toEqual({ field: 'id', problem: expect.any(String) });
  });

  it('passes numbers, booleans, nulls and clean text', () => {
    expect(findUnstorableText({ a: 1, b: true, c: null, d: ['x', { e: 'ü' }], '😀': '😀' })).toBeUndefined();
  });
});
