import type { SegmentDefinition } from '@segmenta/segment-rules';

/**
 * Twenty segments of the kinds loyalty teams build, mixing traits, features and behavioural
 * windows (counts, sums, first/last occurrence, property filters), over the data `seedReadModel` makes.
 */
export const BENCH_SEGMENTS: Array<{ key: string; definition: SegmentDefinition }> = [
  { key: 'dach', definition: { trait: 'country', op: 'in', value: ['DE', 'AT', 'CH'] } },
  { key: 'frequent', definition: { feature: 'orders', op: 'gte', value: 5 } },
  {
    key: 'rfm-top',
    definition: {
      all: [
        { feature: 'rfm_r', op: 'gte', value: 4 },
        { feature: 'rfm_f', op: 'gte', value: 4 },
      ],
    },
  },
  { key: 'camera-intent', definition: { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'cameras' }], count: { op: 'gte', value: 2 }, within: 'P30D' } },
  { key: 'recent-buyers', definition: { event: 'Order Completed', count: { op: 'gte', value: 1 }, within: 'P90D' } },
  { key: 'big-spenders-6m', definition: { event: 'Order Completed', sum: { property: 'revenue', op: 'gte', value: 250 }, within: 'P180D' } },
  {
    key: 'gold-browsing',
    definition: {
      all: [
        { trait: 'plan', op: 'eq', value: 'gold' },
        { event: 'Product Viewed', count: { op: 'gte', value: 1 }, within: 'P7D' },
      ],
    },
  },
  {
    key: 'high-value',
    definition: {
      any: [
        { feature: 'clv', op: 'gt', value: 900 },
        { feature: 'orders', op: 'gte', value: 15 },
      ],
    },
  },
  {
    key: 'cart-abandoners',
    definition: { all: [{ event: 'Product Added', count: { op: 'gte', value: 1 }, within: 'P14D' }, { not: { event: 'Order Completed', count: { op: 'gte', value: 1 }, within: 'P14D' } }] },
  },
  { key: 'at-risk-or-lapsed', definition: { feature: 'lifecycle_stage', op: 'in', value: ['at_risk', 'lapsed'] } },
  {
    key: 'reachable-mid-recency',
    definition: {
      all: [
        { feature: 'recency_days', op: 'between', value: [30, 90] },
        { trait: 'email', op: 'exists' },
      ],
    },
  },
  { key: 'active-this-week', definition: { event: 'Page Viewed', last: { op: 'lte', value: 'P7D' } } },
  { key: 'example-domain', definition: { trait: 'email', op: 'contains', value: '7@example' } },
  {
    key: 'book-lovers',
    definition: {
      all: [
        { feature: 'top_category', op: 'eq', value: 'books' },
        { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'books' }], count: { op: 'gte', value: 2 }, within: 'P60D' },
      ],
    },
  },
  { key: 'outside-us', definition: { not: { trait: 'country', op: 'eq', value: 'US' } } },
  { key: 'engaged-readers', definition: { event: 'Page Viewed', count: { op: 'gte', value: 2 }, within: 'P90D' } },
  {
    key: 'fading-repeaters',
    definition: {
      all: [
        { feature: 'p_alive', op: 'lt', value: 0.3 },
        { feature: 'orders', op: 'gte', value: 2 },
      ],
    },
  },
  { key: 'premium-browsers', definition: { event: 'Product Viewed', where: [{ property: 'price', op: 'gt', value: 250 }], count: { op: 'gte', value: 1 }, within: 'P30D' } },
  { key: 'paid-plans', definition: { trait: 'plan', op: 'in', value: ['silver', 'gold'] } },
  {
    key: 'new-buyers',
    definition: {
      any: [
        { event: 'Order Completed', first: { op: 'lte', value: 'P30D' } },
        { feature: 'orders', op: 'eq', value: 1 },
      ],
    },
  },
];

export const COUNTRIES = ['DE', 'AT', 'CH', 'FR', 'US', 'GB', 'NL', 'ES'];
export const CATEGORIES = ['cameras', 'books', 'shoes', 'toys', 'garden', 'audio', 'kitchen', 'games'];
export const STAGES = ['prospect', 'new', 'active', 'loyal', 'at_risk', 'lapsed'];
const EVENTS = ['Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Added', 'Product Added', 'Order Completed', 'Order Completed', 'Page Viewed'];

const sqlArray = (values: string[]) => `array[${values.map((v) => `'${v}'`).join(',')}]`;
const pick = (values: string[]) => `(${sqlArray(values)})[1 + floor(random() * ${values.length})::int]`;

/**
 * Statements that fill segmentation's read model with `profiles` customers and `facts` behaviour
 * facts each, spread over the last 365 days; seeded, so every run gets the same data.
 */
export function seedStatements(profiles: number, facts: number): string[] {
  return [
    'select setseed(0.42)',
    `insert into segmentation.profile_view (profile_id, traits, features, updated_at)
     select md5('p' || i)::uuid,
       jsonb_build_object('country', ${pick(COUNTRIES)}, 'plan', ${pick(['free', 'free', 'silver', 'gold'])})
         || case when random() < 0.7 then jsonb_build_object('email', 'c' || i || '@example.com') else '{}'::jsonb end,
       jsonb_build_object('orders', floor(power(random(), 2) * 20)::int, 'revenue', round((random() * 2000)::numeric, 2),
         'recency_days', floor(random() * 365)::int, 'rfm_r', 1 + floor(random() * 5)::int, 'rfm_f', 1 + floor(random() * 5)::int,
         'lifecycle_stage', ${pick(STAGES)}, 'top_category', ${pick(CATEGORIES)},
         'clv', round((random() * 1000)::numeric, 2), 'p_alive', round(random()::numeric, 3)),
       now()
     from generate_series(1, ${profiles}) i`,
    `insert into segmentation.behaviour_facts (event_id, profile_id, name, props, occurred_at)
     select 'f' || i || '-' || j, md5('p' || i)::uuid, ${pick(EVENTS)},
       jsonb_build_object('category', ${pick(CATEGORIES)}, 'price', round((random() * 300)::numeric, 2), 'revenue', round((random() * 200)::numeric, 2)),
       now() - random() * interval '365 days'
     from generate_series(1, ${profiles}) i, generate_series(1, ${facts}) j`,
  ];
}
