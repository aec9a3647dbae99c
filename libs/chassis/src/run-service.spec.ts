import { watchParent } from './run-service';

describe('watchParent', () => {
  it('calls back once the process it was started by is no longer its parent', async () => {
    let gone = 0;
    // A pid that is not this process's parent: as after the parent died and the process was re-parented.
    const timer = watchParent(() => (gone += 1), { SEGMENTA_EXIT_WITH_PARENT: String(process.ppid + 100_000) }, 5);
    expect(timer).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gone).toBe(1);
  });

  it('stays quiet while the parent lives, and does nothing unless asked', async () => {
    let gone = 0;
    const timer = watchParent(() => (gone += 1), { SEGMENTA_EXIT_WITH_PARENT: String(process.ppid) }, 5);
    await new Promise((resolve) => setTimeout(resolve, 60));
    clearInterval(timer);
    expect(gone).toBe(0);
    expect(watchParent(() => (gone += 1), {})).toBeUndefined();
    expect(watchParent(() => (gone += 1), { SEGMENTA_EXIT_WITH_PARENT: '1' })).toBeUndefined();
  });
});
