import { withTimeout } from './with-timeout';

describe('withTimeout', () => {
  it('resolves with the promise when it settles in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
  });

  it('rejects naming what did not come when the promise takes longer', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20, 'DLQ count')).rejects.toThrow('no answer within 20 ms: DLQ count');
  });

  it('passes the promise’s own rejection through', async () => {
    await expect(withTimeout(Promise.reject(new Error('broken')), 1000)).rejects.toThrow('broken');
  });
});
