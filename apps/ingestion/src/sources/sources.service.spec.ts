import { Metrics, TrafficControl, UnauthenticatedError, loadConfig } from '@segmenta/chassis';
import { IngestionConfig } from '../config';
import type { SourcesRepository, Source } from './sources.repository';
import { SourcesService } from './sources.service';
import { hashWriteKey } from './write-key';

/** The write-key cache: how often authentication asks the repository (a counting stand-in; no I/O). */
describe('SourcesService write-key cache', () => {
  const source: Source = { id: 's-1', name: 'web', writeKeyHash: hashWriteKey('key-1'), enabled: true, createdAt: new Date(), updatedAt: new Date() } as Source;
  let lookups = 0;
  const repository = { findByKeyHash: async (hash: string) => ((lookups += 1), hash === source.writeKeyHash ? source : undefined) } as unknown as SourcesRepository;

  const newService = () => {
    const config = loadConfig(IngestionConfig, {}, { PORT: 0 });
    const metrics = new Metrics();
    return new SourcesService(repository, config, new TrafficControl(config, metrics), metrics);
  };

  beforeEach(() => {
    lookups = 0;
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12) });
  });
  afterEach(() => jest.useRealTimers());

  it('asks once per 5 seconds per key, also after the first entry expired', async () => {
    const service = newService();
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

  it('refuses an unknown key with an authentication error that says so', async () => {
    const refused = newService().authenticate('nope');
    await expect(refused).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(refused).rejects.toMatchObject({ message: 'Unknown write key', details: [{ field: 'writeKey', problem: 'unknown' }] });
  });

  it('remembers an unknown key for WRITE_KEY_NEGATIVE_CACHE_SECONDS (10 s by default), then asks again', async () => {
    const service = newService();
    for (let i = 0; i < 5; i += 1) await expect(service.authenticate('nope')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(lookups).toBe(1);
    jest.setSystemTime(Date.now() + 11_000);
    await expect(service.authenticate('nope')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(lookups).toBe(2);
  });
});
