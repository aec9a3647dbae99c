import { Injectable } from '@nestjs/common';

/**
 * The time segments are evaluated at. Tests move it forward to see time-based rules take
 * customers out without waiting; in production it is the system clock.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves this process's clock forward (simulated time). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
