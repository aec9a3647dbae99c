import { addAffinity, affinityShares, decayAffinity, emptyAffinity, topCategory } from './affinity';

const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);

describe('category affinity', () => {
  it('halves an interaction every 30 days', () => {
    const state = addAffinity(emptyAffinity(), 'cameras', 'view', day(0));
    expect(decayAffinity(state, day(30)).scores.cameras).toBeCloseTo(0.5, 12);
    expect(decayAffinity(state, day(60)).scores.cameras).toBeCloseTo(0.25, 12);
  });

  it('weights view 1, add-to-cart 3, purchase 5 and normalises to shares', () => {
    let state = emptyAffinity();
    state = addAffinity(state, 'cameras', 'view', day(10));
    state = addAffinity(state, 'cameras', 'cart', day(10));
    state = addAffinity(state, 'books', 'purchase', day(10));
    expect(affinityShares(state)).toEqual({ cameras: 4 / 9, books: 5 / 9 });
    expect(topCategory(state)).toEqual({ category: 'books', share: 5 / 9 });
  });

  it('does not depend on the order interactions arrive in', () => {
    const events: Array<[string, 'view' | 'cart' | 'purchase', number]> = [
      ['cameras', 'view', 3],
      ['books', 'purchase', 40],
      ['cameras', 'cart', 12],
      ['garden', 'view', 55],
      ['books', 'view', 1],
    ];
    const fold = (list: typeof events) => list.reduce((s, [c, i, d]) => addAffinity(s, c, i, day(d)), emptyAffinity());
    const forward = fold(events);
    const backward = fold([...events].reverse());
    expect(backward.ref).toBe(forward.ref);
    for (const category of Object.keys(forward.scores)) expect(backward.scores[category]).toBeCloseTo(forward.scores[category], 12);
    // Independent value: books = 5·2^(-15/30) + 1·2^(-54/30).
    expect(forward.scores.books).toBeCloseTo(5 * 2 ** -0.5 + 2 ** -1.8, 12);
  });

  it('keeps shares under a uniform decay and has no top category without interactions', () => {
    const state = addAffinity(addAffinity(emptyAffinity(), 'a', 'view', day(0)), 'b', 'cart', day(0));
    const later = decayAffinity(state, day(90));
    expect(affinityShares(later).a).toBeCloseTo(affinityShares(state).a, 12);
    expect(topCategory(emptyAffinity())).toBeNull();
  });
});
