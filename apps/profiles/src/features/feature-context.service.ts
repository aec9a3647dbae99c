import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database, queryRows } from '@segmenta/persistence';
import { ProfilesConfig } from '../config';
import type * as tables from '../db/schema';
import { sql } from 'drizzle-orm';
import type { MoneySettings, RfmCuts } from './customer-features';

const CUTS_TTL_MS = 60_000;

/** What deriving features needs besides the events: money settings, the clock and the population's RFM cut points. */
@Injectable()
export class FeatureContext {
  readonly money: MoneySettings;
  private cuts: RfmCuts | null = null;
  private loadedAt = 0;

  constructor(
    config: ProfilesConfig,
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
  ) {
    const fxRates: Record<string, number> = {};
    for (const entry of (config.FX_RATES ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
      const [currency, rate] = entry.split('=');
      fxRates[currency] = Number(rate);
    }
    this.money = { baseCurrency: config.BASE_CURRENCY, fxRates };
  }

  now(): Date {
    return new Date();
  }

  /** The cut points of the last population run (reloaded every minute: another replica may have run it). */
  async rfmCuts(): Promise<RfmCuts | null> {
    if (Date.now() - this.loadedAt > CUTS_TTL_MS) {
      const rows = await queryRows<{ name: string; cuts: [number, number, number, number] }>(this.database.db, sql`select name, cuts from profiles.feature_cuts`);
      const byName = new Map(rows.map((r) => [r.name, r.cuts]));
      const recency = byName.get('recency');
      const frequency = byName.get('frequency');
      const monetary = byName.get('monetary');
      this.cuts = recency && frequency && monetary ? { recency, frequency, monetary } : null;
      this.loadedAt = Date.now();
    }
    return this.cuts;
  }

  setCuts(cuts: RfmCuts | null): void {
    this.cuts = cuts;
    this.loadedAt = Date.now();
  }
}
