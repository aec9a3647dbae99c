import type { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/**
 * Runs `round` every `pollMs`, at once when woken, and again straight away while rounds come back
 * full (a backlog); one round at a time. A failed round is logged and retried at the next poll.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly what: string,
    private readonly round: () => Promise<boolean>,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
    this.wake();
  }

  /** Stops polling and waits for the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves once no round is under way and none is asked for (tests and benches). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && (await this.round()));
      } catch (error) {
        this.logger.warn(`${this.what} failed, retried at the next poll: ${(error as Error).message}`);
        return;
      }
    } while (this.again && !this.stopped);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.wake();
      if (!this.stopped) this.schedule();
    }, this.pollMs);
    this.timer.unref();
  }
}

/** A worker that runs rounds of at most `batchSize` items on a PollLoop from bootstrap to shutdown; a full round runs the next at once. */
export abstract class PolledWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollLoop;

  protected constructor(what: string, options: { pollMs: number; batchSize: number; logger: Logger }) {
    this.loop = new PollLoop(what, () => this.round().then((taken) => taken >= options.batchSize), options.pollMs, options.logger);
  }

  /** One round; how many items it took. */
  protected abstract round(): Promise<number>;

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  wake(): void {
    this.loop.wake();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }
}
