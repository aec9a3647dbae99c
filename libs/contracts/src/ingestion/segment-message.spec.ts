import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SegmentMessageV1, segmentMessageProblems } from './segment-message';

const valid = {
  messageId: 'm-1',
  type: 'track',
  sourceId: 's-1',
  userId: 'u-1',
  event: 'Order Completed',
  properties: { revenue: 10 },
  traits: {},
  context: {},
  integrations: {},
  timestamp: '2026-11-23T10:15:30.000Z',
  receivedAt: '2026-11-23T10:15:31Z',
  sentAt: '2026-11-23T10:15:31+01:00',
};

const variants: Array<[string, Record<string, unknown>]> = [
  ['valid', {}],
  ['no messageId', { messageId: undefined }],
  ['empty messageId', { messageId: '' }],
  ['numeric messageId', { messageId: 5 }],
  ['bad type', { type: 'click' }],
  ['missing sourceId', { sourceId: undefined }],
  ['numeric userId', { userId: 42 }],
  ['array properties', { properties: [] }],
  ['null traits', { traits: null }],
  ['missing context', { context: undefined }],
  ['bad timestamp', { timestamp: 'yesterday' }],
  ['date-only timestamp', { timestamp: '2026-11-23' }],
  ['bad receivedAt', { receivedAt: 17 }],
  ['offset without colon', { receivedAt: '2026-11-23T10:15:31+0100' }],
  ['month 13', { timestamp: '2026-13-23T10:15:31Z' }],
  ['bad sentAt', { sentAt: 'soon' }],
  ['no optional strings', { userId: undefined, event: undefined, sentAt: undefined }],
  ['alias', { type: 'alias', previousId: 'old', event: undefined }],
  ['numeric previousId', { type: 'alias', previousId: 7 }],
];

describe('segmentMessageProblems', () => {
  it.each(variants)('agrees with the class-validator decorators: %s', (_, change) => {
    const value = { ...valid, ...change };
    for (const [key, v] of Object.entries(change)) if (v === undefined) delete (value as Record<string, unknown>)[key];
    const decorators = validateSync(plainToInstance(SegmentMessageV1, value), { forbidUnknownValues: false })
      .map((e) => e.property)
      .sort();
    const fast = segmentMessageProblems(value)
      .map((p) => p.split(':')[0])
      .sort();
    expect(fast).toEqual(decorators);
  });

  it('says whether a field is missing, of the wrong type or empty', () => {
    const withoutId: Record<string, unknown> = { ...valid, context: undefined };
    delete withoutId.messageId;
    expect(segmentMessageProblems(withoutId)).toEqual(['messageId: is required', 'context: is required']);
    expect(segmentMessageProblems({ ...valid, messageId: 5, sourceId: '', traits: [] })).toEqual(['messageId: must be a string', 'sourceId: must not be empty', 'traits: must be an object']);
  });

  it('rejects what is not an object', () => {
    expect(segmentMessageProblems(null)).toEqual(['message: must be an object']);
    expect(segmentMessageProblems([valid])).toEqual(['message: must be an object']);
  });
});
