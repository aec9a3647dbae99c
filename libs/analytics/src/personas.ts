import type { Matrix } from './kmeans';

/** What a clustering feature measures: names and treatments are built from these roles. */
export type FeatureRole = 'value' | 'frequency' | 'recency' | 'basket' | 'tenure' | 'other';

export interface ClusterFeature {
  key: string;
  role: FeatureRole;
  /** For `other`: how to say it ("email engagement"). */
  label?: string;
}

export interface ClusterDescriptionInput {
  features: ClusterFeature[];
  /** Raw (not standardised) values, rows × features in the order of `features`. */
  values: Matrix;
  labels: ArrayLike<number>;
  k: number;
  /** Revenue per row (for shares of revenue). */
  revenue: ArrayLike<number>;
  topCategory?: ArrayLike<string | null | undefined>;
  lifecycleStage?: ArrayLike<string | null | undefined>;
}

export type TreatmentKind = 'win-back' | 'onboarding' | 'reactivation' | 'vip' | 'cross-sell' | 'premium' | 'nurture';

export interface Persona {
  cluster: number;
  name: string;
  size: number;
  customerShare: number;
  revenueShare: number;
  /** Median of each feature in the cluster. */
  medians: Record<string, number>;
  /** (cluster mean − population mean) / population sd, per feature. */
  zScores: Record<string, number>;
  topCategories: Array<{ category: string; share: number }>;
  lifecycleMix: Array<{ stage: string; share: number }>;
  treatment: { kind: TreatmentKind; text: string };
}

const WORDS: Record<Exclude<FeatureRole, 'other'>, [high: string, low: string]> = {
  value: ['high-value', 'low-value'],
  frequency: ['frequent', 'infrequent'],
  recency: ['lapsing', 'recently active'],
  basket: ['big-basket', 'small-basket'],
  tenure: ['long-standing', 'new'],
};
/** Order in which words read naturally: "high-value frequent big-basket … customers". */
const WORD_ORDER: FeatureRole[] = ['tenure', 'recency', 'value', 'frequency', 'basket', 'other'];
const DISTINCT = 0.5;
const ORDINALS = ['second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];

function word(feature: ClusterFeature, z: number): string {
  if (feature.role === 'other') return `${z > 0 ? 'high' : 'low'} ${feature.label ?? feature.key}`;
  return WORDS[feature.role][z > 0 ? 0 : 1];
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function shares(values: Array<string | null | undefined>): Array<{ key: string; share: number }> {
  const counts = new Map<string, number>();
  let n = 0;
  for (const v of values) {
    if (!v) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    n += 1;
  }
  return [...counts.entries()].map(([key, c]) => ({ key, share: c / n })).sort((a, b) => b.share - a.share || a.key.localeCompare(b.key));
}

function treatmentFor(z: (role: FeatureRole) => number, category: string | undefined): Persona['treatment'] {
  const about = category ? ` around ${category}` : '';
  if (z('recency') >= DISTINCT && z('value') >= DISTINCT) return { kind: 'win-back', text: `Win-back: a personal offer${about} before these valuable customers are gone` };
  if (z('tenure') <= -DISTINCT) return { kind: 'onboarding', text: 'Onboarding: welcome series and an incentive for the second order' };
  if (z('recency') >= DISTINCT) return { kind: 'reactivation', text: 'Reactivation: a low-cost reminder; suppress if it stays unanswered' };
  if (z('value') >= DISTINCT && z('frequency') >= DISTINCT) return { kind: 'vip', text: 'VIP: loyalty-tier perks and early access instead of discounts' };
  if (z('frequency') >= DISTINCT && z('basket') <= -0.3) return { kind: 'cross-sell', text: 'Cross-sell: bundles and thresholds that raise the basket' };
  if (z('basket') >= DISTINCT) return { kind: 'premium', text: `Premium: new arrivals and higher-end recommendations${about}` };
  return { kind: 'nurture', text: `Nurture: personalised recommendations${about}` };
}

/**
 * A persona card per cluster with a descriptive name built from its most distinguishing features
 * (z-scores against the population), unique within the run and never "Cluster N".
 */
export function describeClusters(input: ClusterDescriptionInput): Persona[] {
  const { features, values, labels, k, revenue } = input;
  const { rows, cols } = values;
  if (cols !== features.length) throw new RangeError(`values have ${cols} columns for ${features.length} features`);
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  for (let i = 0; i < rows; i += 1) for (let j = 0; j < cols; j += 1) mean[j] += values.data[i * cols + j] / rows;
  for (let i = 0; i < rows; i += 1) for (let j = 0; j < cols; j += 1) sd[j] += (values.data[i * cols + j] - mean[j]) ** 2 / rows;
  for (let j = 0; j < cols; j += 1) sd[j] = Math.sqrt(sd[j]) || 1;
  let totalRevenue = 0;
  for (let i = 0; i < rows; i += 1) totalRevenue += revenue[i];
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < rows; i += 1) members[labels[i]].push(i);
  const populationCategories = new Map(shares(Array.from({ length: rows }, (_, i) => input.topCategory?.[i])).map((s) => [s.key, s.share]));

  const drafts = members.map((rowsOf, cluster) => {
    const zScores: Record<string, number> = {};
    const medians: Record<string, number> = {};
    features.forEach((f, j) => {
      const column = rowsOf.map((i) => values.data[i * cols + j]);
      const clusterMean = column.reduce((s, v) => s + v, 0) / (column.length || 1);
      zScores[f.key] = (clusterMean - mean[j]) / sd[j];
      medians[f.key] = median(column);
    });
    const categories = shares(rowsOf.map((i) => input.topCategory?.[i]));
    // A category names the cluster when it dominates it and is over-represented against the population.
    const lead = categories[0];
    const category = lead && lead.share >= 0.4 && lead.share >= 1.5 * (populationCategories.get(lead.key) ?? 0) ? lead.key : undefined;
    const byStrength = features.map((f) => ({ f, z: zScores[f.key] })).sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
    const ranked = byStrength.filter((x) => Math.abs(x.z) >= DISTINCT);
    // Weaker differences name a cluster only when the strong ones are already taken.
    const weaker = byStrength.filter((x) => Math.abs(x.z) >= DISTINCT / 2);
    const z = (role: FeatureRole) => {
      const f = features.find((x) => x.role === role);
      return f ? zScores[f.key] : 0;
    };
    const size = rowsOf.length;
    const clusterRevenue = rowsOf.reduce((s, i) => s + revenue[i], 0);
    return {
      cluster,
      ranked,
      weaker,
      category,
      persona: {
        cluster,
        name: '',
        size,
        customerShare: size / (rows || 1),
        revenueShare: totalRevenue ? clusterRevenue / totalRevenue : 0,
        medians,
        zScores,
        topCategories: categories.slice(0, 3).map((c) => ({ category: c.key, share: c.share })),
        lifecycleMix: shares(rowsOf.map((i) => input.lifecycleStage?.[i])).map((s) => ({ stage: s.key, share: s.share })),
        treatment: treatmentFor(z, category),
      } satisfies Persona,
    };
  });

  const nameOf = (draft: (typeof drafts)[number], words: number, withCategory: boolean, pool = draft.ranked) => {
    const chosen = pool.slice(0, words).sort((a, b) => WORD_ORDER.indexOf(a.f.role) - WORD_ORDER.indexOf(b.f.role));
    const text = chosen.length > 0 ? `${chosen.map((x) => word(x.f, x.z)).join(' ')} customers` : 'mainstream customers';
    const name = withCategory && draft.category ? `${text} (${draft.category})` : text;
    return name.charAt(0).toUpperCase() + name.slice(1);
  };
  // Larger clusters choose first; a name already taken grows more words.
  const taken = new Set<string>();
  for (const draft of [...drafts].sort((a, b) => b.persona.size - a.persona.size || a.cluster - b.cluster)) {
    const candidates: string[] = [];
    for (let words = 2; words <= Math.max(2, draft.ranked.length); words += 1) candidates.push(nameOf(draft, words, true), nameOf(draft, words, false));
    for (let words = draft.ranked.length + 1; words <= draft.weaker.length; words += 1) candidates.push(nameOf(draft, words, true, draft.weaker), nameOf(draft, words, false, draft.weaker));
    let name = candidates.find((c) => !taken.has(c));
    for (let i = 0; !name; i += 1) {
      const candidate = `${candidates[0]} (${ORDINALS[i] ?? `${i + 2}th`} group)`;
      if (!taken.has(candidate)) name = candidate;
    }
    taken.add(name);
    draft.persona.name = name;
  }
  return drafts.map((d) => d.persona);
}
