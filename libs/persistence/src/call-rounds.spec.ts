import { CallRounds, type RoundOutcome } from './call-rounds';

/** A run whose rounds finish when the test says so, recording what each round got. */
function controlledRun() {
  const rounds: number[][] = [];
  const finish: Array<() => void> = [];
  const run = (inputs: number[]): Promise<Array<RoundOutcome<number>>> => {
    rounds.push(inputs);
    return new Promise((resolve) => finish.push(() => resolve(inputs.map((n) => (n < 0 ? { error: new Error(`bad ${n}`) } : { value: n * 10 })))));
  };
  return { rounds, finish, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CallRounds', () => {
  it('runs a call at once when idle, and gathers the calls made meanwhile into the next round', async () => {
    const { rounds, finish, run } = controlledRun();
    const calls = new CallRounds(run);
    const first = calls.call(1);
    await tick();
    expect(rounds).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => calls.call(n));
    await tick();
    expect(rounds).toEqual([[1]]);
    finish[0]();
    expect(await first).toBe(10);
    await tick();
    expect(rounds).toEqual([[1], [2, 3, 4]]);
    finish[1]();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('keeps up to `concurrency` rounds under way, and at most `maxPerRound` calls in one', async () => {
    const { rounds, finish, run } = controlledRun();
    const calls = new CallRounds(run, { concurrency: 2, maxPerRound: 2 });
    const all = [1, 2, 3, 4, 5, 6].map((n) => calls.call(n));
    await tick();
    expect(rounds).toEqual([[1], [2]]);
    finish[0]();
    finish[1]();
    await tick();
    await tick();
    expect(rounds).toEqual([[1], [2], [3, 4], [5, 6]]);
    finish[2]();
    finish[3]();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('fails only the call whose outcome is an error; a run that throws fails its whole round, and the next round still runs', async () => {
    const { finish, run } = controlledRun();
    const calls = new CallRounds(run);
    const blocker = calls.call(0);
    const round = [5, -1, 6].map((n) =>
      calls.call(n).then(
        (v) => ({ v }),
        (e: Error) => ({ e: e.message }),
      ),
    );
    await tick();
    finish[0]();
    await blocker;
    await tick();
    finish[1]();
    expect(await Promise.all(round)).toEqual([{ v: 50 }, { e: 'bad -1' }, { v: 60 }]);

    let fail = true;
    const flaky = new CallRounds<number, number>(async (inputs) => {
      if (fail) {
        fail = false;
        throw new Error('down');
      }
      return inputs.map((n) => ({ value: n }));
    });
    await expect(flaky.call(1)).rejects.toThrow('down');
    expect(await flaky.call(2)).toBe(2);
  });
});
