import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database, queryRows } from '@segmenta/persistence';
import { ProfilesConfig } from '../config';
import type * as tables from '../db/schema';
import { sql } from 'drizzle-orm';
import type { MoneySettings, RfmCuts } from './customer-features';
import type { ClvSettings, CustomerModels } from './customer-models';

const CUTS_TTL_MS = 60_000;

/** What deriving features needs besides the events: money settings, the clock and the population's RFM cut points. */
@Injectable()
export class FeatureContext {
  readonly money: MoneySettings;
  readonly clv: ClvSettings;
  private cuts: RfmCuts | null = null;
  private loadedAt = 0;
  private models: CustomerModels | null = null;
  private modelsLoadedAt = 0;

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
    this.clv = { months: config.CLV_MONTHS, margin: config.CLV_MARGIN, monthlyDiscountRate: config.CLV_MONTHLY_DISCOUNT };
  }

  /** The fitted customer models and CLV settings (reloaded every minute: another replica may have refitted), or null before the first fit. */
  async fittedModels(): Promise<{ models: CustomerModels; clv: ClvSettings } | null> {
    if (Date.now() - this.modelsLoadedAt > CUTS_TTL_MS) {
      const rows = await queryRows<{ name: string; params: Record<string, number>; fitted_at: string | Date }>(this.database.db, sql`select name, params, fitted_at from profiles.customer_models`);
      const byName = new Map(rows.map((r) => [r.name, r]));
      const bgnbd = byName.get('bgnbd');
      const gammaGamma = byName.get('gamma_gamma');
      this.models = bgnbd
        ? {
            bgnbd: { r: bgnbd.params.r, alpha: bgnbd.params.alpha, a: bgnbd.params.a, b: bgnbd.params.b },
            gammaGamma: gammaGamma ? { p: gammaGamma.params.p, q: gammaGamma.params.q, gamma: gammaGamma.params.gamma } : null,
            fittedAt: new Date(bgnbd.fitted_at).toISOString(),
          }
        : null;
      this.modelsLoadedAt = Date.now();
    }
    return this.models ? { models: this.models, clv: this.clv } : null;
  }

  setModels(models: CustomerModels | null): void {
    this.models = models;
    this.modelsLoadedAt = Date.now();
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
