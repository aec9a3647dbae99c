import type { SourcesRepository, Source } from './sources.repository';
import { SourcesService } from './sources.service';
import { hashWriteKey } from './write-key';

/** The write-key cache: how often authentication asks the repository (a counting stand-in; no I/O). */
describe('SourcesService write-key cache', () => {
  const source: Source = { id: 's-1', name: 'web', writeKeyHash: hashWriteKey('key-1'), enabled: true, createdAt: new Date(), updatedAt: new Date() } as Source;
  let lookups = 0;
  const repository = { findByKeyHash: async (hash: string) => ((lookups += 1), hash === source.writeKeyHash ? source : undefined) } as unknown as SourcesRepository;

  beforeEach(() => {
    lookups = 0;
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12) });
  });
  afterEach(() => jest.useRealTimers());

  it('asks once per 5 seconds per key, also after the first entry expired', async () => {
    const service = new SourcesService(repository);
    await service.authenticate('key-1');
    await service.authenticate('key-1');
    expect(lookups).toBe(1);
    jest.setSystemTime(Date.now() + 6000);
    await service.authenticate('key-1');
    await service.authenticate('key-1');
    jest.setSystemTime(Date.now() + 1000);
    await service.authenticate('key-1');
    expect(lookups).toBe(2);
  });

  it('refuses an unknown key with a 401 that says so', async () => {
    await expect(new SourcesService(repository).authenticate('nope')).rejects.toMatchObject({ response: { message: 'Unknown write key' } });
  });
});
