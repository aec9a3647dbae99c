import { Injectable } from '@nestjs/common';
import { ProfilesConfig } from '../config';
import type { MoneySettings, RfmCuts } from './customer-features';
import type { ClvSettings, CustomerModels } from './customer-models';
import { FeaturesRepository } from './features.repository';

/** Population values another replica may recompute are reloaded when older than this. */
const RELOAD_AFTER_MS = 60_000;

/** A value loaded from the database, reloaded once older than RELOAD_AFTER_MS, or set by this replica's own run. */
class Reloading<T> {
  private loaded: { value: T; at: number } | undefined;

  constructor(private readonly load: () => Promise<T>) {}

  async get(): Promise<T> {
    if (!this.loaded || Date.now() - this.loaded.at > RELOAD_AFTER_MS) this.set(await this.load());
    return (this.loaded as { value: T }).value;
  }

  set(value: T): void {
    this.loaded = { value, at: Date.now() };
  }
}

/** What deriving features needs besides the events: money settings, the clock and the population's RFM cut points. */
@Injectable()
export class FeatureContext {
  readonly money: MoneySettings;
  readonly clv: ClvSettings;
  private readonly cuts = new Reloading<RfmCuts | null>(() => this.loadCuts());
  private readonly models = new Reloading<CustomerModels | null>(() => this.loadModels());

  constructor(
    config: ProfilesConfig,
    private readonly repository: FeaturesRepository,
  ) {
    const fxRates: Record<string, number> = {};
    for (const entry of (config.FX_RATES ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const [currency, rate] = entry.split('=');
      fxRates[currency] = Number(rate);
    }
    this.money = { baseCurrency: config.BASE_CURRENCY, fxRates };
    this.clv = { months: config.CLV_MONTHS, margin: config.CLV_MARGIN, monthlyDiscountRate: config.CLV_MONTHLY_DISCOUNT };
  }

  /** The fitted customer models and CLV settings (another replica may have refitted), or null before the first fit. */
  async fittedModels(): Promise<{ models: CustomerModels; clv: ClvSettings } | null> {
    const models = await this.models.get();
    return models ? { models, clv: this.clv } : null;
  }

  setModels(models: CustomerModels | null): void {
    this.models.set(models);
  }

  now(): Date {
    return new Date();
  }

  /** The cut points of the last population run (another replica may have run it). */
  rfmCuts(): Promise<RfmCuts | null> {
    return this.cuts.get();
  }

  setCuts(cuts: RfmCuts | null): void {
    this.cuts.set(cuts);
  }

  private async loadModels(): Promise<CustomerModels | null> {
    const rows = await this.repository.customerModels();
    const byName = new Map(rows.map((r) => [r.name, r]));
    const bgnbd = byName.get('bgnbd');
    const gammaGamma = byName.get('gamma_gamma');
    if (!bgnbd) return null;
    return {
      bgnbd: { r: bgnbd.params.r, alpha: bgnbd.params.alpha, a: bgnbd.params.a, b: bgnbd.params.b },
      gammaGamma: gammaGamma ? { p: gammaGamma.params.p, q: gammaGamma.params.q, gamma: gammaGamma.params.gamma } : null,
      fittedAt: bgnbd.fittedAt.toISOString(),
    };
  }

  private async loadCuts(): Promise<RfmCuts | null> {
    const rows = await this.repository.loadCuts();
    const byName = new Map(rows.map((r) => [r.name, r.cuts]));
    const recency = byName.get('recency');
    const frequency = byName.get('frequency');
    const monetary = byName.get('monetary');
    return recency && frequency && monetary ? { recency, frequency, monetary } : null;
  }
}
