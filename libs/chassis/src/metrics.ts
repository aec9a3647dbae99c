import { Global, Injectable, Module } from '@nestjs/common';

/** A monotonic counter; `inc('{limit="key"}')` counts one series by its preformatted labels. */
export class Counter {
  private readonly series = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels = '', by = 1): void {
    this.series.set(labels, (this.series.get(labels) ?? 0) + by);
  }

  value(labels = ''): number {
    return this.series.get(labels) ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.series].map(([labels, value]) => `${this.name}${labels} ${value}`)];
  }
}

/**
 * The process's own counters in Prometheus text, served on /metrics with the dead-letter gauge.
 * Kept this small on purpose: a handful of counters on hot paths (a map update each), no client
 * library; OpenTelemetry metrics stay for what is exported over OTLP.
 */
@Injectable()
export class Metrics {
  private readonly counters = new Map<string, Counter>();

  /** The counter of that name, created on first use (so a service and a guard may both ask for it). */
  counter(name: string, help: string): Counter {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter(name, help);
      this.counters.set(name, counter);
    }
    return counter;
  }

  render(): string {
    return [...this.counters.values()].flatMap((counter) => counter.render()).join('\n');
  }
}

/** Every service: one Metrics registry, injectable anywhere. */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
