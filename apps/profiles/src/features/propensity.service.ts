import { Injectable, Logger } from '@nestjs/common';
import { InvalidStateError } from '@segmenta/chassis';
import { SUBJECTS, type ProfileUpdatedV1 } from '@segmenta/contracts';
import { binaryLabels, encodeTable, predictProbabilities, sliceRows, trainPropensity, type CalibrationBin } from '@segmenta/analytics';
import { Outbox, createEnvelope } from '@segmenta/messaging';
import { withTransaction } from '@segmenta/persistence';
import { ProfileStoreRepository } from '../activity/profile-store.repository';
import { ECOMMERCE_EVENTS, applyEvent, deriveFeatures, emptyAccumulator, publicFeatures, type FeatureAccumulator } from './customer-features';
import { FeatureContext } from './feature-context.service';
import { FeaturesRepository } from './features.repository';

/** The features a propensity model learns from (profile_features columns, as FeaturesRepository.trainingRows names them). */
const COLUMNS = [
  'orders',
  'revenue',
  'aov',
  'recency_days',
  'tenure_days',
  'event_count',
  'rfm_r',
  'rfm_f',
  'rfm_m',
  'p_alive',
  'expected_orders_90d',
  'clv',
  'lifecycle_stage',
  'top_category',
] as const;

/** What a model predicts: a yes/no trait, or whether a customer orders within the next N days. */
export type PropensityLabel = { trait: string } | { ordersWithinDays: number };

export interface PropensityReportDto {
  name: string;
  label: PropensityLabel;
  /** Labelled profiles that answered yes. */
  positives: number;
  feature: string;
  trainRows: number;
  testRows: number;
  scored: number;
  auc: number;
  brier: number;
  calibration: CalibrationBin[];
  strongest: Array<{ feature: string; weight: number }>;
  trainedAt: string;
}

/** Fewer labelled customers than this: a held-out AUC would mean little. */
const MIN_LABELLED = 40;

/**
 * Propensity models (ARCHITECTURE §6): an L2 logistic regression per named label, trained on the
 * profiles' features with a held-out split, reported (AUC, Brier score, calibration) and applied to
 * every profile; scores are stored and published as the feature `propensity_<name>`, which segment
 * rules can read.
 */
@Injectable()
export class PropensityService {
  private readonly logger = new Logger(PropensityService.name);

  constructor(
    private readonly store: ProfileStoreRepository,
    private readonly outbox: Outbox,
    private readonly context: FeatureContext,
    private readonly repository: FeaturesRepository,
  ) {}

  async train(name: string, label: PropensityLabel, l2 = 1): Promise<PropensityReportDto> {
    const rows: Array<Record<string, unknown> & { profile_id: string; label: unknown }> = await this.repository.trainingRows('trait' in label ? label.trait : null);
    // Training rows: today's features with a yes/no trait, or the features as of N days ago with whether an order followed.
    const training =
      'trait' in label
        ? this.traitLabelled(rows)
        : await this.futureOrdersLabelled(
            rows.map((r) => r.profile_id),
            label.ordersWithinDays,
          );
    const y = training.map((t) => t.y);
    if (training.length < MIN_LABELLED || !y.includes(0) || !y.includes(1)) {
      const what = 'trait' in label ? `have trait "${label.trait}" as yes/no` : `existed ${label.ordersWithinDays} days ago`;
      throw new InvalidStateError(`only ${training.length} profiles ${what} (${y.filter((v) => v === 1).length} yes): at least ${MIN_LABELLED} with both answers are needed`, [
        { field: 'label', problem: 'too few labelled profiles' },
      ]);
    }
    // One encoding for training and scoring rows, so a column means the same in both.
    const text = [...training.map((t) => t.features), ...rows].map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c] === null || r[c] === undefined ? '' : String(r[c])])));
    const encoded = encodeTable(text, [...COLUMNS]);
    const report = trainPropensity(sliceRows(encoded.x, 0, training.length), y, { featureNames: encoded.featureNames, l2, seed: 1 });
    const scores = predictProbabilities(report.model, sliceRows(encoded.x, training.length, text.length));
    const trainedAt = this.context.now();
    const result: PropensityReportDto = {
      name,
      label,
      positives: y.filter((v) => v === 1).length,
      feature: `propensity_${name}`,
      trainRows: report.trainRows,
      testRows: report.testRows,
      scored: rows.length,
      auc: report.auc,
      brier: report.brier,
      calibration: report.calibration,
      strongest: encoded.featureNames
        .map((feature, j) => ({ feature, weight: report.model.weights[j] }))
        .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
        .slice(0, 8),
      trainedAt: trainedAt.toISOString(),
    };
    await this.repository.savePropensityModel({ name, label, report: result as unknown as Record<string, unknown>, trainedAt });
    // Scores in chunks, each written with its profiles.updated messages (only changed ones).
    let changed = 0;
    for (let start = 0; start < rows.length; start += 2000) {
      const chunk = rows.slice(start, start + 2000).map((r, i) => ({ profileId: r.profile_id, score: Math.round(scores[start + i] * 1e6) / 1e6 }));
      const published = await withTransaction(this.repository.database.db, async (tx) => {
        const updated = await this.repository.saveScores(tx, name, chunk);
        const byId = new Map(chunk.map((c) => [c.profileId, c.score]));
        const messages = updated.map((profileId) => {
          const data: ProfileUpdatedV1 = { profileId, traits: {}, features: { [`propensity_${name}`]: byId.get(profileId) }, full: false, updatedAt: trainedAt.toISOString() };
          return { subject: SUBJECTS.profilesUpdated, envelope: createEnvelope(SUBJECTS.profilesUpdated, data, { occurredAt: trainedAt }), partitionKey: profileId };
        });
        await this.outbox.write(tx, messages);
        return messages.length;
      });
      this.outbox.wake();
      changed += published;
    }
    this.logger.log(`propensity model ${name} trained on ${report.trainRows} profiles (held-out AUC ${report.auc.toFixed(3)}), ${changed} scores changed`);
    return result;
  }

  /** Profiles whose label trait reads yes or no, with today's features. */
  private traitLabelled(rows: Array<Record<string, unknown> & { label: unknown }>): Array<{ features: Record<string, unknown>; y: number }> {
    return rows.flatMap((r) => {
      const raw = typeof r.label === 'boolean' || typeof r.label === 'number' || typeof r.label === 'string' ? String(r.label) : '';
      try {
        return [{ features: r, y: binaryLabels([{ v: raw }], 'v')[0] }];
      } catch {
        return []; // no usable answer: scored, not trained on
      }
    });
  }

  /**
   * "Orders within N days": each profile's features rebuilt from its events as of N days ago
   * (the same fold and models as today's), labelled with whether an order came after. Profiles
   * without events before then did not exist yet and are left out.
   */
  private async futureOrdersLabelled(profileIds: string[], days: number): Promise<Array<{ features: Record<string, unknown>; y: number }>> {
    const now = this.context.now();
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const cuts = await this.context.rfmCuts();
    const fitted = await this.context.fittedModels();
    const out: Array<{ features: Record<string, unknown>; y: number }> = [];
    for (let start = 0; start < profileIds.length; start += 2000) {
      const events = await this.store.loadFeatureEvents(this.repository.database.db, profileIds.slice(start, start + 2000));
      const before = new Map<string, FeatureAccumulator>();
      const ordered = new Set<string>();
      for (const e of events) {
        if (e.occurredAt < cutoff) before.set(e.profileId, applyEvent(before.get(e.profileId) ?? emptyAccumulator(), e, this.context.money));
        else if (e.name === ECOMMERCE_EVENTS.orderCompleted && e.occurredAt <= now) ordered.add(e.profileId);
      }
      for (const [profileId, acc] of before) out.push({ features: publicFeatures(deriveFeatures(acc, cutoff, cuts, this.context.money, {}, fitted)), y: ordered.has(profileId) ? 1 : 0 });
    }
    return out;
  }

  async list(): Promise<PropensityReportDto[]> {
    return (await this.repository.propensityReports()) as unknown as PropensityReportDto[];
  }
}
