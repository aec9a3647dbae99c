import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('hands a caller during a run that run’s result, and starts afresh once it ended', async () => {
    const flight = new SingleFlight<number>();
    let started = 0;
    let release: (value: number) => void = () => undefined;
    const work = () => {
      started += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = flight.run(work);
    const second = flight.run(work);
    release(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(started).toBe(1);
    const third = flight.run(work);
    release(8);
    expect(await third).toBe(8);
    expect(started).toBe(2);
  });

  it('lets the next call run after a failed one', async () => {
    const flight = new SingleFlight<string>();
    await expect(flight.run(async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await flight.run(async () => 'up')).toBe('up');
  });
});
