import { correctedTimestamp } from './clock-skew';

describe('correctedTimestamp', () => {
  const receivedAt = new Date('2026-11-23T12:00:00.000Z');

  it('moves an event from a clock 1 h fast onto the server clock', () => {
    // The device thinks it is 13:00:05 when it sends an event that happened 5 s earlier.
    expect(correctedTimestamp(receivedAt, '2026-11-23T13:00:00.000Z', '2026-11-23T13:00:05.000Z').toISOString()).toBe('2026-11-23T11:59:55.000Z');
  });

  it('keeps an event from a correct clock where it was, less the transit time', () => {
    expect(correctedTimestamp(receivedAt, '2026-11-23T11:58:00.000Z', '2026-11-23T11:59:59.500Z').toISOString()).toBe('2026-11-23T11:58:00.500Z');
  });

  it('takes the timestamp as is without sentAt, and the time of receipt without either', () => {
    expect(correctedTimestamp(receivedAt, '2026-11-20T08:00:00+02:00').toISOString()).toBe('2026-11-20T06:00:00.000Z');
    expect(correctedTimestamp(receivedAt)).toEqual(receivedAt);
  });
});

describe('correctedTimestamp: bounds (issue 15)', () => {
  const receivedAt = new Date('2026-11-23T12:00:00.000Z');

  it('falls back to the time of receipt when the correction lands in the future (sentAt far in the past)', () => {
    // sentAt 1900 with a present-day timestamp would put the event in 2152.
    expect(correctedTimestamp(receivedAt, '2026-11-23T11:59:00.000Z', '1900-01-01T00:00:00.000Z')).toEqual(receivedAt);
  });

  it('falls back to the time of receipt when the correction lands implausibly far in the past (sentAt far in the future)', () => {
    // sentAt 2999 would put it in 1053.
    expect(correctedTimestamp(receivedAt, '2026-11-23T11:59:00.000Z', '2999-01-01T00:00:00.000Z')).toEqual(receivedAt);
  });

  it('falls back when the timestamp comes after sentAt (an event cannot be sent before it happened)', () => {
    expect(correctedTimestamp(receivedAt, '2026-11-23T12:00:10.000Z', '2026-11-23T12:00:00.000Z')).toEqual(receivedAt);
  });

  it('still corrects a clock that is years off, as long as the event is recent on the server clock', () => {
    // A device reset to 1970 sends both from the same wrong clock: the correction puts the event 5 s before receipt.
    expect(correctedTimestamp(receivedAt, '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:05.000Z').toISOString()).toBe('2026-11-23T11:59:55.000Z');
  });

  it('keeps the times of a historical import sent through a server library (sentAt now, timestamps years back)', () => {
    expect(correctedTimestamp(receivedAt, '2016-11-20T12:00:00.000Z', '2026-11-23T11:59:59.000Z').toISOString()).toBe('2016-11-20T12:00:01.000Z');
  });

  it('without sentAt takes a past timestamp as is (historical imports), but not one in the future or before 1970', () => {
    expect(correctedTimestamp(receivedAt, '2019-03-01T10:00:00.000Z').toISOString()).toBe('2019-03-01T10:00:00.000Z');
    expect(correctedTimestamp(receivedAt, '2026-11-23T12:00:30.000Z').toISOString()).toBe('2026-11-23T12:00:30.000Z');
    expect(correctedTimestamp(receivedAt, '2999-01-01T00:00:00.000Z')).toEqual(receivedAt);
    expect(correctedTimestamp(receivedAt, '1053-01-01T00:00:00.000Z')).toEqual(receivedAt);
  });
});
