import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { availableTestDrivers, compiledSql, createTestDatabase, openDatabase, queryRows, runMigrations, type Database, type TestDatabase } from '@segmenta/persistence';
import {
  compareCodePoints,
  compileFactsCrossing,
  compileMembershipMatrix,
  compileMembersQuery,
  compilePredicate,
  timeBoundaries,
  validateDefinition,
  type BehaviourFact,
  type ProfileSnapshot,
  type SegmentDefinition,
  type SqlContext,
} from '@segmenta/segment-rules';

/**
 * The rule language has two evaluators: compiled SQL over segmentation's read model (batch
 * recompute, preview) and compiled closures over one profile (real time). This property-based test
 * generates random definitions and random profiles, stores the profiles in the real tables and
 * checks that both evaluators put exactly the same profiles in every segment.
 */
jest.setTimeout(180_000);

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const SEGMENT_IDS: Record<string, string> = { vip: '00000000-0000-4000-8000-000000000001', churned: '00000000-0000-4000-8000-000000000002' };
const context: SqlContext = {
  tables: { profileView: 'segmentation.profile_view', behaviourFacts: 'segmentation.behaviour_facts', memberships: 'segmentation.memberships' },
  now: NOW,
  segmentId: (key) => SEGMENT_IDS[key],
};

// A small vocabulary, so that generated conditions often hit the generated data; it includes
// names and values an attacker might send, which must stay data.
const KEYS = ['country', 'age', 'tags', 'name', 'vip', "o'brien", 'a"b; drop table x'];
const NESTED = ['address.city', 'address.zip'];
const EVENTS = ['Product Viewed', 'Order Completed', "'); delete from segmentation.profile_view; --"];
const PROPS = ['category', 'revenue', 'price', 'shipping.country'];
const TEXTS = ['DE', 'AT', 'cameras', 'lenses', 'Cam', '', 'ünïcode', '😀', '～', "'; drop table segmentation.memberships; --", '$1', '\\'];

const text = fc.constantFrom(...TEXTS);
const number = fc.oneof(
  fc.integer({ min: -5, max: 500 }),
  fc.integer({ min: -50000, max: 50000 }).map((n) => n / 100),
  fc.constantFrom(0, 0.1, 0.2, 0.3, 1e-7, 2.5),
);
const scalar = fc.oneof(text, number, fc.boolean());
const jsonValue = fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) });

const valueTest = fc.oneof(
  fc.record({ op: fc.constantFrom('eq' as const, 'neq' as const, 'contains' as const), value: scalar }),
  fc.record({ op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const), value: fc.oneof(number, text) }),
  fc.tuple(number, number).map(([a, b]) => ({ op: 'between' as const, value: [Math.min(a, b), Math.max(a, b)] as [number, number] })),
  fc.tuple(text, text).map(([a, b]) => ({ op: 'between' as const, value: (compareCodePoints(a, b) <= 0 ? [a, b] : [b, a]) as [string, string] })),
  fc.record({ op: fc.constantFrom('in' as const, 'nin' as const), value: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('startsWith' as const), value: text }),
  fc.record({ op: fc.constant('exists' as const), value: fc.option(fc.boolean(), { nil: undefined }) }).map((t) => (t.value === undefined ? { op: t.op } : t)),
);
const duration = fc.constantFrom('P1D', 'P7D', 'PT36H', 'P30D', 'P1M', 'P2W');
const countTest = fc.oneof(
  fc.record({ op: fc.constantFrom('eq' as const, 'neq' as const, 'gt' as const, 'gte' as const, 'lt' as const, 'lte' as const), value: fc.integer({ min: 0, max: 4 }) }),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([a, b]) => ({ op: 'between' as const, value: [Math.min(a, b), Math.max(a, b)] as [number, number] })),
);
const sumTest = fc.record({
  property: fc.constantFrom('revenue', 'price'),
  op: fc.constantFrom('eq' as const, 'neq' as const, 'gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
  value: fc.oneof(number, fc.constant(0.3)),
});
const ageTest = fc.record({ op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const), value: duration });

const behaviour = fc
  .record(
    {
      event: fc.constantFrom(...EVENTS),
      where: fc.array(
        fc.tuple(fc.constantFrom(...PROPS), valueTest).map(([property, test]) => ({ property, ...test })),
        { maxLength: 2 },
      ),
      within: duration,
      measure: fc.oneof(
        fc.constant({}),
        countTest.map((count) => ({ count })),
        sumTest.map((sum) => ({ sum })),
        ageTest.map((first) => ({ first })),
        ageTest.map((last) => ({ last })),
      ),
    },
    { requiredKeys: ['event', 'measure'] },
  )
  .map(({ measure, ...rest }) => ({ ...rest, ...measure }) as SegmentDefinition);

const leaf: fc.Arbitrary<SegmentDefinition> = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS, ...NESTED), valueTest).map(([trait, test]) => ({ trait, ...test }) as SegmentDefinition),
  fc.tuple(fc.constantFrom('orders', 'revenue', 'recency_days', 'top_category', 'lifecycle_stage'), valueTest).map(([feature, test]) => ({ feature, ...test }) as SegmentDefinition),
  behaviour,
  fc.constantFrom('vip', 'churned').map((inSegment) => ({ inSegment })),
);
const definition: fc.Arbitrary<SegmentDefinition> = fc.letrec<{ node: SegmentDefinition }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie('node').map((not) => ({ not })),
  ),
})).node;

const traits = fc
  .dictionary(fc.constantFrom(...KEYS), jsonValue, { maxKeys: 5 })
  .chain((bag) => fc.option(fc.dictionary(fc.constantFrom('city', 'zip'), jsonValue, { maxKeys: 2 }), { nil: undefined }).map((address) => (address === undefined ? bag : { ...bag, address })));
const features = fc.dictionary(fc.constantFrom('orders', 'revenue', 'recency_days', 'top_category', 'lifecycle_stage'), jsonValue, { maxKeys: 5 });
const props = fc.record({ category: jsonValue, revenue: jsonValue, price: number, shipping: fc.oneof(fc.record({ country: jsonValue }), text) }, { requiredKeys: [] });
const fact = fc.record({
  name: fc.constantFrom(...EVENTS),
  props,
  // Some on the exact window edges (P1D, P7D, P30D back from NOW), the rest anywhere in 45 days.
  at: fc.oneof(
    fc.integer({ min: 0, max: 45 * DAY }).map((ago) => NOW - ago),
    fc.constantFrom(NOW - DAY, NOW - 7 * DAY, NOW - 30 * DAY, NOW - 36 * 3_600_000),
  ),
});
const profileArb = fc.record({ traits, features, facts: fc.array(fact, { maxLength: 6 }), segments: fc.subarray(['vip', 'churned']) });

interface GeneratedProfile {
  traits: Record<string, unknown>;
  features: Record<string, unknown>;
  facts: BehaviourFact[];
  segments: string[];
}

/** Cases random generation rarely hits, always checked first. */
const EDGE_CASES: Array<[SegmentDefinition[], GeneratedProfile[]]> = [
  // Code point order: U+1F600 sorts after U+FF5E in UTF-8 bytes ("C" collation), before it in UTF-16 units.
  [
    [
      { trait: 'name', op: 'gt', value: '～' },
      { trait: 'name', op: 'between', value: ['～', '😀'] },
      { trait: 'name', op: 'lt', value: '😀' },
    ],
    [
      { traits: { name: '😀' }, features: {}, facts: [], segments: [] },
      { traits: { name: '～' }, features: {}, facts: [], segments: [] },
      { traits: { name: 'ünïcode' }, features: {}, facts: [], segments: [] },
    ],
  ],
  // Sums: 0.1 + 0.2 is 0.3 exactly, in both; a tie at the sixth decimal rounds away from zero.
  [
    [
      { event: 'Order Completed', sum: { property: 'revenue', op: 'eq', value: 0.3 } },
      { event: 'Order Completed', sum: { property: 'revenue', op: 'lte', value: 0.3 } },
    ],
    [
      {
        traits: {},
        features: {},
        facts: [
          { name: 'Order Completed', props: { revenue: 0.1 }, at: NOW - DAY },
          { name: 'Order Completed', props: { revenue: 0.2 }, at: NOW - 2 * DAY },
        ],
        segments: [],
      },
      {
        traits: {},
        features: {},
        facts: [
          { name: 'Order Completed', props: { revenue: 0.1000005 }, at: NOW - DAY },
          { name: 'Order Completed', props: { revenue: 0.2 }, at: NOW - DAY },
        ],
        segments: [],
      },
    ],
  ],
  // Window and age edges: a fact exactly P7D / P1M back is inside; ages compared at the instant.
  [
    [
      { event: 'Product Viewed', within: 'P7D' },
      { event: 'Product Viewed', within: 'P1M', count: { op: 'eq', value: 2 } },
      { event: 'Product Viewed', last: { op: 'gte', value: 'P7D' } },
      { event: 'Product Viewed', first: { op: 'gt', value: 'P1M' } },
    ],
    [
      { traits: {}, features: {}, facts: [{ name: 'Product Viewed', props: {}, at: NOW - 7 * DAY }], segments: [] },
      {
        traits: {},
        features: {},
        facts: [
          { name: 'Product Viewed', props: {}, at: Date.parse('2026-10-23T12:00:00Z') },
          { name: 'Product Viewed', props: {}, at: NOW - 7 * DAY - 1 },
        ],
        segments: [],
      },
    ],
  ],
  // Absent, null, wrong types and arrays under neq/nin/contains/exists.
  [
    [
      { trait: 'country', op: 'neq', value: 'DE' },
      { trait: 'country', op: 'nin', value: ['DE', 1] },
      { trait: 'tags', op: 'contains', value: 'DE' },
      { not: { trait: 'country', op: 'exists' } },
      { trait: 'address.city', op: 'eq', value: 'DE' },
    ],
    [
      { traits: { country: null, tags: ['DE', 'AT'] }, features: {}, facts: [], segments: [] },
      { traits: { country: 1, tags: 'DE', address: 'DE' }, features: {}, facts: [], segments: [] },
      { traits: { country: 'DE', tags: [['DE']], address: { city: 'DE' } }, features: {}, facts: [], segments: [] },
    ],
  ],
];

const profileId = (i: number) => `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe.each(availableTestDrivers())('SQL and in-memory evaluation agree (%s)', (driver) => {
  let testDb: TestDatabase;
  let database: Database<Record<string, unknown>>;

  beforeAll(async () => {
    testDb = await createTestDatabase({ driver });
    database = openDatabase({ url: testDb.url });
    await runMigrations(database, { migrationsFolder: join(__dirname, '..', 'src', 'db', 'migrations'), schema: 'segmentation' });
  });

  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  async function store(profiles: GeneratedProfile[]): Promise<void> {
    await database.db.execute(sql`truncate segmentation.profile_view, segmentation.behaviour_facts, segmentation.memberships`);
    const views = profiles.map((p, i) => ({ profile_id: profileId(i), traits: p.traits, features: p.features }));
    const facts = profiles.flatMap((p, i) => p.facts.map((f, j) => ({ event_id: `${i}-${j}`, profile_id: profileId(i), name: f.name, props: f.props, occurred_at: new Date(f.at).toISOString() })));
    const members = profiles.flatMap((p, i) => p.segments.map((key) => ({ segment_id: SEGMENT_IDS[key], profile_id: profileId(i) })));
    await database.db.execute(sql`insert into segmentation.profile_view (profile_id, traits, features)
      select profile_id, traits, features from jsonb_to_recordset(${JSON.stringify(views)}::jsonb) as x(profile_id uuid, traits jsonb, features jsonb)`);
    await database.db.execute(sql`insert into segmentation.behaviour_facts (event_id, profile_id, name, props, occurred_at)
      select event_id, profile_id, name, props, occurred_at from jsonb_to_recordset(${JSON.stringify(facts)}::jsonb) as x(event_id text, profile_id uuid, name text, props jsonb, occurred_at timestamptz)`);
    await database.db.execute(sql`insert into segmentation.memberships (segment_id, profile_id)
      select segment_id, profile_id from jsonb_to_recordset(${JSON.stringify(members)}::jsonb) as x(segment_id uuid, profile_id uuid)`);
  }

  const snapshot = (p: GeneratedProfile): ProfileSnapshot => ({ traits: p.traits, features: p.features, facts: p.facts, segments: new Set(p.segments) });

  it('on every generated profile, for every generated definition', async () => {
    let checkedMembers = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(definition, { minLength: 1, maxLength: 4 }), fc.array(profileArb, { minLength: 1, maxLength: 10 }), async (definitions, profiles) => {
        for (const d of definitions) {
          const valid = validateDefinition(d);
          if (!valid.ok) throw new Error(`the generator made an invalid definition: ${JSON.stringify(valid.problems)}`);
        }
        await store(profiles);
        const query = compileMembershipMatrix(definitions, context);
        const rows = await queryRows<Record<string, unknown>>(database.db, compiledSql(query.text, query.values));
        const byId = new Map(rows.map((r) => [r.profile_id as string, r]));
        definitions.forEach((d, k) => {
          const predicate = compilePredicate(d);
          profiles.forEach((p, i) => {
            const inSql = byId.get(profileId(i))?.[`s${k}`];
            const inMemory = predicate(snapshot(p), NOW);
            if (inSql !== inMemory) throw new Error(`definition ${JSON.stringify(d)} on profile ${JSON.stringify(p)}: SQL ${String(inSql)}, in memory ${inMemory}`);
            if (inMemory) checkedMembers += 1;
          });
        });
      }),
      { numRuns: driver === 'pglite' ? 100 : 500, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), examples: EDGE_CASES },
    );
    // The generators are useful only if segments are sometimes non-empty.
    expect(checkedMembers).toBeGreaterThan(50);
  });

  // ADR 19: a recompute since the last one evaluates only the profiles with a fact that crossed a
  // boundary since then. Checked against the in-memory evaluator: whoever's outcome differs
  // between the two instants must be among them.
  it('selects every profile whose outcome time alone changed between two evaluations (facts crossing a boundary)', async () => {
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(
        // Behaviour conditions on their own as often as inside trees: they are what time changes.
        fc.array(fc.oneof(behaviour, definition), { minLength: 1, maxLength: 4 }),
        fc.array(profileArb, { minLength: 1, maxLength: 10 }),
        fc.oneof(fc.integer({ min: 1, max: 10 * DAY }), fc.constantFrom(15 * 60_000, DAY, 7 * DAY, 31 * DAY)),
        async (definitions, profiles, elapsed) => {
          await store(profiles);
          const from = NOW - elapsed;
          const boundaries = [...new Map(definitions.flatMap(timeBoundaries).map((b) => [JSON.stringify(b), b])).values()];
          const crossing = compileFactsCrossing(boundaries, context.tables.behaviourFacts, from, NOW);
          const selected = new Set(crossing ? (await queryRows<{ profile_id: string }>(database.db, compiledSql(crossing.text, crossing.values))).map((r) => r.profile_id) : []);
          definitions.forEach((d) => {
            const predicate = compilePredicate(d);
            profiles.forEach((p, i) => {
              if (predicate(snapshot(p), from) === predicate(snapshot(p), NOW)) return;
              changed += 1;
              if (!selected.has(profileId(i))) throw new Error(`definition ${JSON.stringify(d)} changed between ${from} and ${NOW} on profile ${JSON.stringify(p)}, which no boundary selected`);
            });
          });
        },
      ),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    // Useful only if time does change outcomes in the generated cases.
    expect(changed).toBeGreaterThan(20);
  });

  it('answers the single-segment members query like the matrix, with hostile names left as data', async () => {
    const profiles: GeneratedProfile[] = [
      { traits: { "o'brien": "'; drop table segmentation.memberships; --", country: 'DE' }, features: {}, facts: [{ name: EVENTS[2], props: { category: '$1' }, at: NOW - DAY }], segments: [] },
      { traits: { country: 'AT' }, features: {}, facts: [], segments: ['vip'] },
    ];
    await store(profiles);
    const hostile: SegmentDefinition = {
      any: [{ trait: "o'brien", op: 'startsWith', value: "'; drop" }, { all: [{ event: EVENTS[2], where: [{ property: 'category', op: 'eq', value: '$1' }], within: 'P7D' }, { inSegment: 'vip' }] }],
    };
    const query = compileMembersQuery(hostile, context);
    const rows = await queryRows<{ profile_id: string }>(database.db, compiledSql(query.text, query.values));
    expect(rows.map((r) => r.profile_id)).toEqual([profileId(0)]);
    const tables = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from segmentation.memberships`);
    expect(tables[0].n).toBe(1);
  });
});
