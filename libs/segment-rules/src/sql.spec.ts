import type { SegmentDefinition } from './definition';
import { compileMembershipMatrix, compileMembersQuery, UnknownSegmentError, type SqlContext } from './sql';

const context: SqlContext = {
  tables: { profileView: 'seg.profile_view', behaviourFacts: 'seg.behaviour_facts', memberships: 'seg.memberships' },
  now: Date.parse('2026-11-23T12:00:00Z'),
  segmentId: (key) => ({ vip: '00000000-0000-4000-8000-000000000001' })[key],
};

const INJECTIONS = ["'; drop table seg.profile_view; --", '$1', '"quoted"', "a'b", 'x\\y', "') or true --", '{}', 'c.d'];

describe('compile to SQL', () => {
  it('sends every user value, name and path as a parameter: none of them appears in the text', () => {
    const definition: SegmentDefinition = {
      all: [
        ...INJECTIONS.map((s) => ({ trait: s, op: 'eq' as const, value: s })),
        ...INJECTIONS.map((s) => ({ feature: s, op: 'in' as const, value: [s, 1] })),
        { event: INJECTIONS[0], where: INJECTIONS.map((s) => ({ property: s, op: 'startsWith' as const, value: s })), sum: { property: INJECTIONS[4], op: 'gt', value: 1 } },
        { trait: 'name', op: 'contains', value: INJECTIONS[5] },
      ],
    };
    const { text, values } = compileMembersQuery(definition, context);
    for (const s of INJECTIONS) {
      if (s === '$1' || s === '{}') continue; // these occur in the generated text anyway (placeholders, the '{}' path of #>>)
      expect(text).not.toContain(s);
      expect(values).toContain(s);
    }
    expect(text).not.toContain('drop table');
    // Every placeholder has a value and every value a placeholder.
    const used = new Set([...text.matchAll(/\$(\d+)::/g)].map((m) => Number(m[1])));
    expect([...used].sort((a, b) => a - b)).toEqual(values.map((_, i) => i + 1));
  });

  it('computes each distinct behavioural measure once for a batch of definitions', () => {
    const views: SegmentDefinition = { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], within: 'P7D', count: { op: 'gte', value: 3 } };
    const sameMeasure: SegmentDefinition = { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], within: 'P7D', count: { op: 'lt', value: 3 } };
    const orders: SegmentDefinition = { event: 'Order Completed', sum: { property: 'revenue', op: 'gt', value: 100 } };
    const { text } = compileMembershipMatrix([views, sameMeasure, orders, { trait: 'country', op: 'eq', value: 'DE' }], context);
    expect(text.match(/ AS b\d+/g)).toEqual([' AS b0', ' AS b1']);
    expect(text).toMatch(/ AS s0, .* AS s1, .* AS s2, .* AS s3 FROM seg\.profile_view pv LEFT JOIN agg a/);
    expect(text.match(/FROM seg\.behaviour_facts f/g)).toHaveLength(1);
  });

  it('adds the view row version to a matrix only when asked', () => {
    const country: SegmentDefinition = { trait: 'country', op: 'eq', value: 'DE' };
    expect(compileMembershipMatrix([country], context).text).not.toContain('xmin');
    expect(compileMembershipMatrix([country], context, { rowVersion: true }).text).toMatch(/^SELECT pv\.profile_id, pv\.xmin AS row_version, .* AS s0 FROM seg\.profile_view pv$/);
  });

  it('needs no facts scan for definitions without behaviour', () => {
    const { text } = compileMembersQuery({ any: [{ trait: 'country', op: 'eq', value: 'DE' }, { inSegment: 'vip' }] }, context);
    expect(text).not.toContain('behaviour_facts');
    expect(text).toContain('seg.memberships');
  });

  it('names an unknown segment key', () => {
    expect(() => compileMembersQuery({ inSegment: 'gold' }, context)).toThrow(new UnknownSegmentError('gold'));
  });
});
