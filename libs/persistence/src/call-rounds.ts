/** One call's outcome in a round: its value, or the error that failed it alone. */
export type RoundOutcome<O> = { value: O } | { error: unknown };

export interface CallRoundsOptions {
  /** Calls one round serves at most (default 500). */
  maxPerRound?: number;
  /** Rounds under way at once (default 1). */
  concurrency?: number;
}

/**
 * Gathers concurrent calls into rounds, without a timer: a call made while `concurrency` rounds
 * are under way waits for the next one, which takes every call waiting then. Idle, a call runs at
 * once, alone; busy, one statement serves many callers (a group commit, a batched read), so the
 * cost per call falls as the load grows. `run` gets the inputs of one round and answers each, in order.
 */
export class CallRounds<I, O> {
  private readonly waiting: Array<{ input: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private running = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<Array<RoundOutcome<O>>>,
    private readonly options: CallRoundsOptions = {},
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.start();
    });
  }

  private start(): void {
    while (this.waiting.length > 0 && this.running < (this.options.concurrency ?? 1)) {
      const round = this.waiting.splice(0, this.options.maxPerRound ?? 500);
      this.running += 1;
      Promise.resolve()
        .then(() => this.run(round.map((c) => c.input)))
        .then(
          (outcomes) =>
            round.forEach((c, i) => {
              const outcome = outcomes[i];
              if (outcome === undefined) c.reject(new Error('CallRounds: the round gave no answer for this call'));
              else if ('error' in outcome) c.reject(outcome.error);
              else c.resolve(outcome.value);
            }),
          (error: unknown) => round.forEach((c) => c.reject(error)),
        )
        .finally(() => {
          this.running -= 1;
          this.start();
        });
    }
  }
}
