import { Injectable } from '@nestjs/common';
import { CallRounds, type RoundOutcome } from '@segmenta/persistence';
import type { ProfileReference } from '../read-model/eligibility-lookup';
import { PersonalizationRepository, type CustomerView, type CustomerViewLookups } from './personalization.repository';

interface CustomerViewCall {
  reference: ProfileReference;
  /** The catalog's lookups (one object per catalog snapshot: calls are grouped by it). */
  lookups: Omit<CustomerViewLookups, 'usesSince'>;
  usesSince: Date | null;
}

/** The earliest of the calls' use windows (null, all uses, if any asks for all): more uses than one needs are filtered again in memory. */
function earliest(calls: CustomerViewCall[]): Date | null {
  let since: Date | null = calls[0].usesSince;
  for (const call of calls) {
    if (call.usesSince === null) return null;
    if (since === null || call.usesSince < since) since = call.usesSince;
  }
  return since;
}

/**
 * The customers of concurrent personalized requests, read in rounds (ADR 21): requests arriving
 * while a read is under way share the next statement, so that under load one round trip, one
 * execution and one span serve many requests.
 */
@Injectable()
export class CustomerViews {
  private readonly rounds = new CallRounds<CustomerViewCall, CustomerView>((calls) => this.read(calls), { concurrency: 2, maxPerRound: 200 });

  constructor(private readonly repository: PersonalizationRepository) {}

  load(reference: ProfileReference, lookups: Omit<CustomerViewLookups, 'usesSince'>, usesSince: Date | null): Promise<CustomerView> {
    return this.rounds.call({ reference, lookups, usesSince });
  }

  private async read(calls: CustomerViewCall[]): Promise<Array<RoundOutcome<CustomerView>>> {
    const groups = new Map<CustomerViewCall['lookups'], number[]>();
    calls.forEach((call, i) => groups.set(call.lookups, [...(groups.get(call.lookups) ?? []), i]));
    const outcomes: Array<RoundOutcome<CustomerView>> = new Array(calls.length);
    for (const [lookups, indexes] of groups) {
      const group = indexes.map((i) => calls[i]);
      const views = await this.repository.customerViews(
        group.map((c) => c.reference),
        { ...lookups, usesSince: earliest(group) },
      );
      indexes.forEach((callIndex, j) => (outcomes[callIndex] = { value: views[j] }));
    }
    return outcomes;
  }
}
