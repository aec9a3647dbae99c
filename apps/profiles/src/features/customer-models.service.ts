import { ConflictException, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SingleFlight, scheduleJob } from '@segmenta/chassis';
import { sql } from 'drizzle-orm';
import { fitBgNbd, fitGammaGamma, type GammaGammaFit } from '@segmenta/analytics';
import { DATABASE, jsonParam, queryRows, withTransaction, type Database } from '@segmenta/persistence';
import { ProfilesConfig } from '../config';
import type * as tables from '../db/schema';
import { emptyAccumulator } from './customer-features';
import { repeatBuyingSummary, type CustomerModels } from './customer-models';
import { FeatureContext } from './feature-context.service';
import { FeaturesService } from './features.service';

export interface ModelReport {
  name: 'bgnbd' | 'gamma_gamma';
  params: Record<string, number>;
  logLikelihood: number;
  customers: number;
  iterations: number;
  converged: boolean;
  fittedAt: string;
}

export interface ModelFitSummary {
  models: ModelReport[];
  /** Profiles whose P(alive), expected orders or CLV changed and were published. */
  changed: number;
  tookMs: number;
}

/** Fewer customers than this with orders: the fit would say little, and is refused. */
const MIN_CUSTOMERS = 10;

/**
 * Fits BG/NBD and Gamma-Gamma on every customer with orders (CUSTOMER_MODELS_FIT_CRON and on
 * demand), stores the parameters with the fit's report, and refreshes every profile's P(alive),
 * expected orders in 90 days, CLV and churn risk (published as profiles.updated where they changed).
 */
@Injectable()
export class CustomerModelsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CustomerModelsService.name);
  private readonly running = new SingleFlight<ModelFitSummary>();

  constructor(
    private readonly config: ProfilesConfig,
    private readonly context: FeatureContext,
    private readonly features: FeaturesService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(DATABASE) private readonly database: Database<typeof tables>,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'profiles-customer-models-fit', cronTime: this.config.CUSTOMER_MODELS_FIT_CRON, what: 'customer-model fit', work: () => this.fit(), logger: this.logger });
  }

  /** One fit at a time: a second call while one runs waits for it. */
  fit(): Promise<ModelFitSummary> {
    return this.running.run(() => this.run());
  }

  async current(): Promise<ModelReport[]> {
    const rows = await queryRows<{ name: ModelReport['name']; params: Record<string, number>; log_likelihood: number; customers: number; iterations: number; converged: boolean; fitted_at: string | Date }>(
      this.database.db,
      sql`select name, params, log_likelihood, customers, iterations, converged, fitted_at from profiles.customer_models order by name`,
    );
    return rows.map((r) => ({ name: r.name, params: r.params, logLikelihood: Number(r.log_likelihood), customers: r.customers, iterations: r.iterations, converged: r.converged, fittedAt: new Date(r.fitted_at).toISOString() }));
  }

  private async run(): Promise<ModelFitSummary> {
    const started = Date.now();
    const now = this.context.now();
    const rows = await queryRows<{ orders: number; revenue: string | number; first_order_at: string | Date; last_order_at: string | Date }>(
      this.database.db,
      sql`select orders, revenue, first_order_at, last_order_at from profiles.profile_features where orders > 0 and first_order_at is not null and last_order_at is not null`,
    );
    const x: number[] = [];
    const tx: number[] = [];
    const T: number[] = [];
    const zbar: number[] = [];
    for (const r of rows) {
      const s = repeatBuyingSummary({ ...emptyAccumulator(), orders: r.orders, revenue: Number(r.revenue), firstOrderAt: new Date(r.first_order_at), lastOrderAt: new Date(r.last_order_at) }, now);
      if (!s) continue;
      x.push(s.x);
      tx.push(s.tx);
      T.push(Math.max(s.T, s.tx));
      zbar.push(s.zbar);
    }
    if (x.length < MIN_CUSTOMERS) throw new ConflictException(`only ${x.length} customers with orders: at least ${MIN_CUSTOMERS} are needed to fit the customer models`);
    const bgnbd = fitBgNbd({ x, tx, T });
    if (!Number.isFinite(bgnbd.logLikelihood)) throw new Error(`the BG/NBD fit on ${x.length} customers did not reach a finite likelihood; the models in force stay`);
    let gammaGamma: GammaGammaFit | null = null;
    try {
      const fit = fitGammaGamma({ x, zbar });
      gammaGamma = fit.params.q > 1 ? fit : null;
    } catch {
      gammaGamma = null; // no repeat buyers yet
    }
    const fittedAt = now.toISOString();
    const reports: ModelReport[] = [{ name: 'bgnbd', params: { ...bgnbd.params }, logLikelihood: bgnbd.logLikelihood, customers: bgnbd.customers, iterations: bgnbd.iterations, converged: bgnbd.converged, fittedAt }];
    if (gammaGamma) reports.push({ name: 'gamma_gamma', params: { ...gammaGamma.params }, logLikelihood: gammaGamma.logLikelihood, customers: gammaGamma.customers, iterations: gammaGamma.iterations, converged: gammaGamma.converged, fittedAt });
    await withTransaction(this.database.db, async (t) => {
      await t.execute(sql`delete from profiles.customer_models`);
      await t.execute(sql`insert into profiles.customer_models (name, params, log_likelihood, customers, iterations, converged, fitted_at)
        select name, params, log_likelihood, customers, iterations, converged, fitted_at from json_to_recordset(${jsonParam(reports.map((r) => ({ name: r.name, params: r.params, log_likelihood: r.logLikelihood, customers: r.customers, iterations: r.iterations, converged: r.converged, fitted_at: fittedAt })))}::json)
          as x(name text, params jsonb, log_likelihood float8, customers int, iterations int, converged boolean, fitted_at timestamptz)`);
    });
    const models: CustomerModels = { bgnbd: bgnbd.params, gammaGamma: gammaGamma?.params ?? null, fittedAt };
    this.context.setModels(models);
    const refresh = await this.features.recompute('refresh');
    const summary = { models: reports, changed: refresh.changed, tookMs: Date.now() - started };
    this.logger.log(`customer models fitted on ${bgnbd.customers} customers (BG/NBD log-likelihood ${bgnbd.logLikelihood.toFixed(1)}${bgnbd.converged ? '' : ', not converged'}); ${refresh.changed} profiles changed; ${summary.tookMs} ms`);
    return summary;
  }
}
