/**
 * One run of some work at a time: a call while a run is in flight gets that run's result instead
 * of starting another (a scheduled fit and an on-demand one, say).
 */
export class SingleFlight<T> {
  private current: Promise<T> | undefined;

  run(work: () => Promise<T>): Promise<T> {
    this.current ??= work().finally(() => (this.current = undefined));
    return this.current;
  }
}
