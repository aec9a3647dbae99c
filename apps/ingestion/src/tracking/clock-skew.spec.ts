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
