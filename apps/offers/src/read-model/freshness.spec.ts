import { freshness } from './freshness';

const NOW = Date.parse('2026-12-10T12:00:00Z');

describe('freshness', () => {
  it('is caught up when the last applied seq is segmentation head', () => {
    expect(freshness({ seq: 40, at: '2026-12-10T11:00:00Z' }, { seq: 40, at: '2026-12-10T11:00:00Z' }, NOW)).toMatchObject({ lagChanges: 0, lagSeconds: 0 });
  });

  it('counts the pending changes and the seconds since the last applied one', () => {
    expect(freshness({ seq: 40, at: '2026-12-10T11:59:30Z' }, { seq: 45, at: '2026-12-10T11:59:59Z' }, NOW)).toMatchObject({ lagChanges: 5, lagSeconds: 30 });
  });

  it('never reports a negative lag when it is ahead of a head read a moment earlier', () => {
    expect(freshness({ seq: 46, at: '2026-12-10T11:59:59Z' }, { seq: 45, at: '2026-12-10T11:59:58Z' }, NOW)).toMatchObject({ lagChanges: 0, lagSeconds: 0 });
  });

  it('leaves the lag unknown when segmentation does not answer', () => {
    expect(freshness({ seq: 3, at: null }, null, NOW)).toEqual({ lastAppliedSeq: 3, lastAppliedAt: null, segmentationSeq: null, segmentationAt: null, lagChanges: null, lagSeconds: null });
  });
});
