import type { JourneyDefinition } from './journey-definition';
import { advanceEnrollment, type EnrollmentState, type StepContext } from './journey-steps';

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
    expect(held).toEqual({ runs: [], sends: [], next: { status: 'active', stepId: 'email', dueAt: new Date('2026-12-03T19:00:00Z') } });
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
});
