import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InvalidStateError, SingleFlight, scheduleJob } from '@segmenta/chassis';
import { bgnbdDropout, fitBgNbd, fitGammaGamma, type DropoutIdentification, type GammaGammaFit } from '@segmenta/analytics';
import { ProfilesConfig } from '../config';
import { emptyAccumulator } from './customer-features';
import { repeatBuyingSummary, type CustomerModels } from './customer-models';
import { FeatureContext } from './feature-context.service';
import { FeaturesRepository } from './features.repository';
import { FeaturesService } from './features.service';

export interface ModelReport {
  name: 'bgnbd' | 'gamma_gamma';
  params: Record<string, number>;
  logLikelihood: number;
  customers: number;
  iterations: number;
  converged: boolean;
  fittedAt: string;
  /** BG/NBD only: whether the fit identifies dropout; when it does not, P(alive) is left empty and lifecycle stages follow recency. */
  dropout?: DropoutIdentification;
}

/** The BG/NBD report says whether its dropout is identified (derived from the parameters, so stored fits say it too). */
function withDropout(report: ModelReport): ModelReport {
  return report.name === 'bgnbd' ? { ...report, dropout: bgnbdDropout(report.params as unknown as Parameters<typeof bgnbdDropout>[0]) } : report;
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
    private readonly repository: FeaturesRepository,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({
      scheduler: this.scheduler,
      name: 'profiles-customer-models-fit',
      cronTime: this.config.CUSTOMER_MODELS_FIT_CRON,
      what: 'customer-model fit',
      work: () => this.fit(),
      logger: this.logger,
    });
  }

  /** One fit at a time: a second call while one runs waits for it. */
  fit(): Promise<ModelFitSummary> {
    return this.running.run(() => this.run());
  }

  async current(): Promise<ModelReport[]> {
    const rows = await this.repository.customerModels();
    return rows.map((r) =>
      withDropout({
        name: r.name,
        params: r.params,
        logLikelihood: Number(r.logLikelihood),
        customers: r.customers,
        iterations: r.iterations,
        converged: r.converged,
        fittedAt: r.fittedAt.toISOString(),
      }),
    );
  }

  private async run(): Promise<ModelFitSummary> {
    const started = Date.now();
    const now = this.context.now();
    const rows = await this.repository.orderHistories();
    const x: number[] = [];
    const tx: number[] = [];
    const T: number[] = [];
    const zbar: number[] = [];
    for (const r of rows) {
      const s = repeatBuyingSummary({ ...emptyAccumulator(), orders: r.orders, revenue: Number(r.revenue), firstOrderAt: r.firstOrderAt, lastOrderAt: r.lastOrderAt }, now);
      if (!s) continue;
      x.push(s.x);
      tx.push(s.tx);
      T.push(Math.max(s.T, s.tx));
      zbar.push(s.zbar);
    }
    if (x.length < MIN_CUSTOMERS) throw new InvalidStateError(`only ${x.length} customers with orders: at least ${MIN_CUSTOMERS} are needed to fit the customer models`);
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
    const reports: ModelReport[] = [
      { name: 'bgnbd', params: { ...bgnbd.params }, logLikelihood: bgnbd.logLikelihood, customers: bgnbd.customers, iterations: bgnbd.iterations, converged: bgnbd.converged, fittedAt },
    ];
    if (gammaGamma)
      reports.push({
        name: 'gamma_gamma',
        params: { ...gammaGamma.params },
        logLikelihood: gammaGamma.logLikelihood,
        customers: gammaGamma.customers,
        iterations: gammaGamma.iterations,
        converged: gammaGamma.converged,
        fittedAt,
      });
    await this.repository.replaceCustomerModels(
      reports.map((r) => ({ name: r.name, params: r.params, logLikelihood: r.logLikelihood, customers: r.customers, iterations: r.iterations, converged: r.converged, fittedAt: now })),
    );
    const models: CustomerModels = { bgnbd: bgnbd.params, gammaGamma: gammaGamma?.params ?? null, fittedAt };
    this.context.setModels(models);
    const refresh = await this.features.recompute('refresh');
    const summary = { models: reports.map(withDropout), changed: refresh.changed, tookMs: Date.now() - started };
    const dropout = bgnbdDropout(bgnbd.params);
    this.logger.log(
      `customer models fitted on ${bgnbd.customers} customers (BG/NBD log-likelihood ${bgnbd.logLikelihood.toFixed(1)}${bgnbd.converged ? '' : ', not converged'}; ${dropout.identified ? 'dropout identified' : dropout.text}); ${refresh.changed} profiles changed; ${summary.tookMs} ms`,
    );
    return summary;
  }
}
