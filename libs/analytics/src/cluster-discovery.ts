import { chooseK, kMeans, matrix, standardize, type KChoice, type KMeansResult, type Matrix } from './kmeans';
import { describeClusters, type ClusterFeature, type Persona } from './personas';

/** The behaviour customers are clustered on (profiles' feature names), with the roles names are made of. */
export const CUSTOMER_CLUSTER_FEATURES: ClusterFeature[] = [
  { key: 'revenue', role: 'value' },
  { key: 'orders', role: 'frequency' },
  { key: 'recency_days', role: 'recency' },
  { key: 'aov', role: 'basket' },
  { key: 'tenure_days', role: 'tenure' },
];

export interface ClusterDiscoveryInput {
  features: ClusterFeature[];
  /** Raw values, rows × features. */
  values: Matrix;
  revenue: ArrayLike<number>;
  topCategory?: ArrayLike<string | null | undefined>;
  lifecycleStage?: ArrayLike<string | null | undefined>;
  country?: ArrayLike<string | null | undefined>;
  kMin: number;
  kMax: number;
  seed: number;
  onProgress?: (k: number, share: number) => void;
}

export interface ClusterDiscovery {
  choice: KChoice;
  fit: KMeansResult;
  personas: Persona[];
  /** Mean and sd of the log-scaled features: centroids (standardised) map back with them. */
  mean: Float64Array;
  sd: Float64Array;
}

/**
 * Micro-segments of customers: features log-scaled (money and counts are heavy-tailed) and
 * standardised, k chosen by silhouette in [kMin, kMax] (at most one cluster per 20 customers),
 * k-means++, and a persona card per cluster.
 */
export function discoverClusters(input: ClusterDiscoveryInput): ClusterDiscovery {
  const { values } = input;
  const logged = matrix(values.rows, values.cols);
  for (let i = 0; i < values.data.length; i += 1) logged.data[i] = Math.log1p(Math.max(0, values.data[i]));
  const { z, mean, sd } = standardize(logged);
  const kMax = Math.max(2, Math.min(input.kMax, Math.floor(values.rows / 20)));
  const kMin = Math.max(2, Math.min(input.kMin, kMax));
  const choice = chooseK(z, { min: kMin, max: kMax, seed: input.seed, sampleSize: 2000, onProgress: (k) => input.onProgress?.(k, (k - kMin + 1) / (kMax - kMin + 1)) });
  const fit = kMeans(z, choice.k, { seed: input.seed });
  const personas = describeClusters({
    features: input.features,
    values,
    labels: fit.labels,
    k: choice.k,
    revenue: input.revenue,
    topCategory: input.topCategory,
    lifecycleStage: input.lifecycleStage,
    country: input.country,
  });
  return { choice, fit, personas, mean, sd };
}
