import type { ExperimentChangedV1 } from '@segmenta/contracts';
import { assignVariant } from '@segmenta/stats';
import type { JourneyDefinition } from './journey-definition';
import { advanceEnrollment, type EnrollmentState, type StepContext } from './journey-steps';
import { splitBranch } from './journey-timing';

/** What a due enrollment does (issue 20), without I/O: sends, caps, quiet hours, waits, branches and splits. */
describe('advanceEnrollment', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  const definition = (steps: JourneyDefinition['steps'], quietHours: JourneyDefinition['quietHours'] = null): JourneyDefinition => ({
    trigger: { type: 'segment_entered', segment: 'camera-fans' },
    steps,
    exit: { leftSegment: false, convertedOn: null },
    reentry: { policy: 'never' },
    quietHours,
  });
  const enrollment = (stepId: string | null, events: string[] = []): EnrollmentState => ({
    id: '6f1c2a8e-3b5d-4c7e-9f10-2a3b4c5d6e7f',
    journeyKey: 'j',
    version: 1,
    profileId: 'p',
    stepId,
    enteredAt: new Date('2026-12-01T00:00:00Z'),
    events,
  });
  const context = (overrides: Partial<StepContext> & { sent?: Date[] } = {}): StepContext => {
    const sent = overrides.sent ?? [];
    return {
      now,
      timeZone: 'UTC',
      channelCaps: (channel) => (channel === 'email' ? { perDay: 1, perWeek: 3 } : undefined),
      sentOn: () => sent,
      inSegment: () => false,
      redeemedSinceEntry: () => false,
      splitExperiments: [],
      ...overrides,
    };
  };
  const send = (id: string, next: string | null, channel = 'email') => ({ id, type: 'send' as const, channel, message: { t: id }, offer: null, next });

  it('sends, then stops at a wait with the wait’s next step due after the duration', () => {
    const d = definition([send('email', 'wait'), { id: 'wait', type: 'wait', duration: 'P2D', untilTimeOfDay: null, next: 'again' }, send('again', null)]);
    const result = advanceEnrollment(enrollment('email'), d, context());
    expect(result.runs).toEqual([
      { stepId: 'email', outcome: 'sent', detail: null },
      { stepId: 'wait', outcome: 'waited', detail: 'until 2026-12-05T10:00:00.000Z' },
    ]);
    expect(result.sends).toEqual([{ stepId: 'email', channel: 'email', message: { t: 'email' }, offer: null }]);
    expect(result.next).toEqual({ status: 'active', stepId: 'again', dueAt: new Date('2026-12-05T10:00:00Z') });
  });

  it('waits until a time of day in the customer’s zone', () => {
    const d = definition([{ id: 'wait', type: 'wait', duration: null, untilTimeOfDay: '09:00', next: null }]);
    // 10:00 UTC is 11:00 in Berlin: 09:00 Berlin tomorrow is 08:00 UTC.
    expect(advanceEnrollment(enrollment('wait'), d, context({ timeZone: 'Europe/Berlin' })).next).toEqual({ status: 'active', stepId: null, dueAt: new Date('2026-12-04T08:00:00Z') });
    // A final wait ends the journey once it is due.
    expect(advanceEnrollment(enrollment(null), d, context()).next).toEqual({ status: 'completed', reason: 'reached the end' });
  });

  it('skips a send over the channel’s cap with the reason, and counts its own sends against the cap', () => {
    const d = definition([send('one', 'two'), send('two', null)]);
    const result = advanceEnrollment(enrollment('one'), d, context());
    expect(result.runs).toEqual([
      { stepId: 'one', outcome: 'sent', detail: null },
      { stepId: 'two', outcome: 'skipped', detail: 'frequency cap: 1 per day reached' },
    ]);
    const weekly = advanceEnrollment(enrollment('one'), definition([send('one', null)]), context({ sent: [2, 3, 4].map((d) => new Date(now.getTime() - d * 86_400_000)) }));
    expect(weekly.runs[0]).toEqual({ stepId: 'one', outcome: 'skipped', detail: 'frequency cap: 3 per week reached' });
    expect(advanceEnrollment(enrollment('x'), definition([send('x', null, 'sms')]), context()).runs[0]).toEqual({ stepId: 'x', outcome: 'skipped', detail: 'channel sms does not exist' });
  });

  it('holds a send in quiet hours until they end in the customer’s zone, running nothing', () => {
    const d = definition([send('email', null)], { start: '22:00', end: '08:00' });
    // 10:00 UTC is 19:00 in Tokyo (outside) and 23:00 in Auckland (NZDT, inside: held to 08:00 there, 19:00 UTC).
    expect(advanceEnrollment(enrollment('email'), d, context({ timeZone: 'Asia/Tokyo' })).runs).toHaveLength(1);
    const held = advanceEnrollment(enrollment('email'), d, context({ timeZone: 'Pacific/Auckland' }));
    expect(held).toEqual({ runs: [], sends: [], exposures: [], next: { status: 'active', stepId: 'email', dueAt: new Date('2026-12-03T19:00:00Z') } });
  });

  it('branches on a redemption, on segment membership and on events done since entering', () => {
    const d = (condition: JourneyDefinition['steps'][number] & { type: 'branch' }) => definition([condition, send('yes', null), send('no', null, 'push')]);
    const branch = (condition: Record<string, string>) => ({ id: 'b', type: 'branch' as const, condition: condition as never, then: 'yes', else: 'no' });
    const taken = (result: ReturnType<typeof advanceEnrollment>) => result.runs.map((r) => `${r.stepId}:${r.detail ?? r.outcome}`);
    expect(taken(advanceEnrollment(enrollment('b'), d(branch({ type: 'redeemed_offer', offer: 'cam' })), context({ redeemedSinceEntry: (o) => o === 'cam' })))).toEqual(['b:then', 'yes:sent']);
    expect(taken(advanceEnrollment(enrollment('b'), d(branch({ type: 'in_segment', segment: 'vip' })), context()))).toEqual(['b:else', 'no:channel push does not exist']);
    expect(taken(advanceEnrollment(enrollment('b', ['Product Viewed']), d(branch({ type: 'did_event', event: 'Product Viewed' })), context()))).toEqual(['b:then', 'yes:sent']);
  });

  it('splits by weight, the same way every time for one enrollment', () => {
    const d = definition([
      {
        id: 's',
        type: 'split',
        branches: [
          { weight: 1, next: null },
          { weight: 3, next: 'b' },
        ],
      },
      send('b', null),
    ]);
    const branches = new Map<string, number>();
    for (let i = 0; i < 4000; i += 1) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const first = advanceEnrollment({ ...enrollment('s'), id }, d, context({ channelCaps: () => ({ perDay: null, perWeek: null }) }));
      expect(advanceEnrollment({ ...enrollment('s'), id }, d, context({ channelCaps: () => ({ perDay: null, perWeek: null }) })).runs).toEqual(first.runs);
      branches.set(first.runs[0].detail as string, (branches.get(first.runs[0].detail as string) ?? 0) + 1);
    }
    // 3 to 1 by weight: 3,000 expected on branch 2; a binomial's standard deviation here is ~27.
    expect(Math.abs((branches.get('branch 2') ?? 0) - 3000)).toBeLessThan(150);
  });

  describe('a split that follows a running experiment', () => {
    // Three branches: the experiment sends its control to branch 3 and its treatment to branch 1; branch 2 is the split's own.
    const journey = definition([
      {
        id: 's',
        type: 'split',
        branches: [
          { weight: 1, next: null },
          { weight: 1, next: null },
          { weight: 1, next: null },
        ],
      },
    ]);
    const experiment = (overrides: Partial<ExperimentChangedV1> = {}, branches: [number, number] = [3, 1]): ExperimentChangedV1 => ({
      experimentId: '0b5e2a43-1c77-4d2e-8a0b-6f1e2d3c4b5a',
      key: 'checkout-test',
      status: 'running',
      revision: 2,
      seed: 'checkout-test',
      segments: [],
      trafficShare: 0.7,
      placement: null,
      namespace: null,
      variants: [
        { key: 'a', name: 'Control', weight: 0.4, offers: [], journeyBranch: { journey: 'j', step: 's', branch: branches[0] }, payload: null },
        { key: 'b', name: 'Treatment', weight: 0.6, offers: [], journeyBranch: { journey: 'j', step: 's', branch: branches[1] }, payload: null },
      ],
      at: '2026-12-01T00:00:00.000Z',
      ...overrides,
    });
    const customer = (i: number) => `5a4b3c2d-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const split = (profileId: string, rules: ExperimentChangedV1[], overrides: Partial<StepContext> = {}) =>
      advanceEnrollment({ ...enrollment('s'), profileId }, journey, context({ splitExperiments: rules, ...overrides }));
    const rulesOf = (e: ExperimentChangedV1) => ({ seed: e.seed, trafficShare: e.trafficShare, weights: e.variants.map((v) => v.weight), namespace: e.namespace });

    it('sends each customer in the experiment down their variant’s branch (as assignVariant assigns them) with an exposure, the others down the control’s with none', () => {
      const rules = experiment();
      const seen = { a: 0, b: 0, outside: 0 };
      for (let i = 0; i < 2000; i += 1) {
        const profileId = customer(i);
        const assigned = assignVariant(rulesOf(rules), profileId);
        const result = split(profileId, [rules]);
        if (assigned.inExperiment) {
          const variant = rules.variants[assigned.variant];
          const branch = variant.key === 'a' ? 3 : 1;
          seen[variant.key as 'a' | 'b'] += 1;
          expect(result.runs).toEqual([{ stepId: 's', outcome: 'split', detail: `branch ${branch} (experiment checkout-test: variant ${variant.key})` }]);
          expect(result.exposures).toEqual([{ stepId: 's', branch, experiment: { experimentId: rules.experimentId, key: 'checkout-test', variant: variant.key } }]);
        } else {
          seen.outside += 1;
          expect(result.runs).toEqual([{ stepId: 's', outcome: 'split', detail: 'branch 3 (experiment checkout-test: outside its traffic share, the control’s branch)' }]);
          expect(result.exposures).toEqual([]);
        }
      }
      // 70 % in, split 40/60: about 560 a, 840 b and 600 outside; each far from zero.
      expect(seen.a).toBeGreaterThan(450);
      expect(seen.b).toBeGreaterThan(700);
      expect(seen.outside).toBeGreaterThan(480);
    });

    it('assigns the customer, not the enrollment: a re-entry takes the same branch', () => {
      const rules = experiment({ trafficShare: 1 });
      for (let i = 0; i < 50; i += 1) {
        const profileId = customer(i);
        const first = advanceEnrollment({ ...enrollment('s'), profileId, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }, journey, context({ splitExperiments: [rules] }));
        const again = advanceEnrollment({ ...enrollment('s'), profileId, id: `11111111-0000-4000-8000-${String(i).padStart(12, '0')}` }, journey, context({ splitExperiments: [rules] }));
        expect(again.runs).toEqual(first.runs);
      }
    });

    it('sends customers outside its segments down the control’s branch, unexposed, and assigns its members', () => {
      const rules = experiment({ segments: ['camera-fans', 'vip'], trafficShare: 1 });
      const treated = Array.from({ length: 40 }, (_, i) => customer(i)).filter((p) => {
        const assigned = assignVariant(rulesOf(rules), p);
        return assigned.inExperiment && assigned.variant === 1;
      });
      expect(treated.length).toBeGreaterThan(5);
      for (const profileId of treated) {
        const outsider = split(profileId, [rules], { inSegment: (s) => s === 'loyal' });
        expect(outsider.runs[0].detail).toBe('branch 3 (experiment checkout-test: not targeted, the control’s branch)');
        expect(outsider.exposures).toEqual([]);
        const member = split(profileId, [rules], { inSegment: (s) => s === 'vip' });
        expect(member.runs[0].detail).toBe('branch 1 (experiment checkout-test: variant b)');
        expect(member.exposures).toHaveLength(1);
      }
    });

    it('falls back to the random split, unexposed, when the variant names a branch the split does not have', () => {
      const rules = experiment({ trafficShare: 1 }, [1, 5]);
      let fellBack = 0;
      for (let i = 0; i < 200; i += 1) {
        const profileId = customer(i);
        const result = split(profileId, [rules]);
        const assigned = assignVariant(rulesOf(rules), profileId);
        if (assigned.inExperiment && assigned.variant === 1) {
          fellBack += 1;
          const random = splitBranch(enrollment('s').id, 's', [1, 1, 1]) + 1;
          expect(result.runs[0].detail).toBe(`branch ${random} (random: experiment checkout-test, variant b, names branch 5 of 3)`);
          expect(result.exposures).toEqual([]);
        } else {
          expect(result.runs[0].detail).toBe('branch 1 (experiment checkout-test: variant a)');
          expect(result.exposures).toHaveLength(1);
        }
      }
      expect(fellBack).toBeGreaterThan(60);
    });

    it('ignores an experiment that is not running or names another journey or split', () => {
      const elsewhere = experiment({ key: 'elsewhere', trafficShare: 1 });
      elsewhere.variants = elsewhere.variants.map((v) => ({ ...v, journeyBranch: { journey: 'other', step: 's', branch: 1 } }));
      for (const rules of [experiment({ status: 'stopped' }), elsewhere]) {
        const result = split(customer(1), [rules]);
        expect(result.runs[0].detail).toBe(`branch ${splitBranch(enrollment('s').id, 's', [1, 1, 1]) + 1}`);
        expect(result.exposures).toEqual([]);
      }
    });
  });

  it('skips every send to a customer held out of the programme, and goes on with the journey', () => {
    const d = definition([
      { id: 'email', type: 'send', channel: 'email', message: { template: 'x' }, offer: null, next: 'push' },
      { id: 'push', type: 'send', channel: 'email', message: { template: 'y' }, offer: null, next: null },
    ]);
    const held = advanceEnrollment(enrollment('email'), d, context({ heldOut: true }));
    expect(held.sends).toEqual([]);
    expect(held.runs).toEqual([
      { stepId: 'email', outcome: 'skipped', detail: 'held out of the programme: no treatments' },
      { stepId: 'push', outcome: 'skipped', detail: 'held out of the programme: no treatments' },
    ]);
    expect(advanceEnrollment(enrollment('email'), d, context({ heldOut: false })).sends).toHaveLength(1);
  });
});
