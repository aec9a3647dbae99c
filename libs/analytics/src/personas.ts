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
  /** Each row's country, when known: tells look-alike clusters apart. */
  country?: ArrayLike<string | null | undefined>;
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
  topCountries: Array<{ country: string; share: number }>;
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
/** Relative words: how a cluster differs from look-alikes that share its name. */
const RELATIVE: Record<Exclude<FeatureRole, 'other'>, [more: string, less: string]> = {
  value: ['higher value', 'lower value'],
  frequency: ['more frequent', 'less frequent'],
  recency: ['last order longer ago', 'last order more recent'],
  basket: ['bigger basket', 'smaller basket'],
  tenure: ['longer tenure', 'shorter tenure'],
};
/** Below these a difference between look-alikes does not name them: a share of customers, and a ratio of medians (log, as clustering sees them: 25 %). */
const MIN_SHARE_GAP = 0.5;
const MIN_LOG_GAP = Math.log(1.25);

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

/** A lifecycle stage holding at least this share of a segment decides its treatment before its features do. */
const LIFECYCLE_MAJORITY = 0.5;

function treatmentFor(z: (role: FeatureRole) => number, category: string | undefined, lifecycleMix: Array<{ key: string; share: number }>): Persona['treatment'] {
  const about = category ? ` around ${category}` : '';
  const share = (stage: string) => lifecycleMix.find((l) => l.key === stage)?.share ?? 0;
  const percent = (v: number) => `${Math.round(v * 100)} %`;
  const valuable = z('value') >= DISTINCT || z('frequency') >= DISTINCT;
  // Where most of a segment stands in its lifecycle comes first: nurturing customers who have left reaches nobody.
  const lapsed = share('lapsed');
  const leaving = lapsed + share('at_risk');
  if (lapsed >= LIFECYCLE_MAJORITY)
    return valuable
      ? { kind: 'win-back', text: `Win-back: ${percent(lapsed)} of them have lapsed; a personal offer${about} to these once-valuable customers, then stop if it stays unanswered` }
      : { kind: 'reactivation', text: `Reactivation: ${percent(lapsed)} of them have lapsed; one low-cost reminder, then suppress if it stays unanswered` };
  if (leaving >= LIFECYCLE_MAJORITY)
    return valuable
      ? { kind: 'win-back', text: `Win-back: ${percent(leaving)} of them are at risk or lapsed; a personal offer${about} before these valuable customers are gone` }
      : { kind: 'reactivation', text: `Reactivation: ${percent(leaving)} of them are at risk or lapsed; a low-cost reminder, suppressed if it stays unanswered` };
  if (share('new') >= LIFECYCLE_MAJORITY) return { kind: 'onboarding', text: `Onboarding: ${percent(share('new'))} of them are new; a welcome series and an incentive for the second order` };
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
    const lifecycle = shares(rowsOf.map((i) => input.lifecycleStage?.[i]));
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
        topCountries: shares(rowsOf.map((i) => input.country?.[i]))
          .slice(0, 3)
          .map((c) => ({ country: c.key, share: c.share })),
        lifecycleMix: lifecycle.map((s) => ({ stage: s.key, share: s.share })),
        treatment: treatmentFor(z, category, lifecycle),
      } satisfies Persona,
    };
  });

  const nameOf = (draft: (typeof drafts)[number], words: number, withCategory: boolean, pool = draft.ranked) => {
    const chosen = pool.slice(0, words).sort((a, b) => WORD_ORDER.indexOf(a.f.role) - WORD_ORDER.indexOf(b.f.role));
    const text = chosen.length > 0 ? `${chosen.map((x) => word(x.f, x.z)).join(' ')} customers` : 'mainstream customers';
    const name = withCategory && draft.category ? `${text} (${draft.category})` : text;
    return name.charAt(0).toUpperCase() + name.slice(1);
  };
  // Each cluster's name from how it differs from the population; clusters that share one are then told apart by how they differ from each other.
  for (const draft of drafts) draft.persona.name = nameOf(draft, 2, true);
  distinguishLookAlikes(
    drafts.map((d) => d.persona),
    features,
    members.map((rowsOf) => shares(rowsOf.map((i) => input.topCategory?.[i]))),
    members.map((rowsOf) => shares(rowsOf.map((i) => input.country?.[i]))),
  );
  return drafts.map((d) => d.persona);
}

/**
 * Clusters that ended up with the same name get, each, the next feature that sets it apart from the
 * others of that name: its top category or country where the others' differ, or the behaviour
 * (basket, tenure, value, …) in which its median differs most from theirs ("bigger basket"). Repeated
 * until every name is unique; the last resort is the cluster's own median of its most different
 * feature. Never an ordinal: a name says what the segment is.
 */
function distinguishLookAlikes(
  personas: Persona[],
  features: ClusterFeature[],
  categories: Array<Array<{ key: string; share: number }>>,
  countries: Array<Array<{ key: string; share: number }>>,
): void {
  const used = personas.map(() => new Set<string>());
  const qualifiers: string[][] = personas.map(() => []);
  const base = personas.map((p) => p.name);
  const current = (i: number) => (qualifiers[i].length ? `${base[i]}, ${qualifiers[i].join(', ')}` : base[i]);
  for (let round = 0; round < features.length + 3; round += 1) {
    const byName = new Map<string, number[]>();
    personas.forEach((_, i) => byName.set(current(i), [...(byName.get(current(i)) ?? []), i]));
    const groups = [...byName.values()].filter((g) => g.length > 1);
    if (groups.length === 0) break;
    for (const group of groups) {
      for (const i of group) {
        const others = group.filter((j) => j !== i);
        const options: Array<{ key: string; score: number; text: string }> = [];
        const categorical = (key: string, mixes: typeof categories, say: (v: string) => string) => {
          const lead = mixes[i][0];
          if (!lead) return;
          const elsewhere = others.reduce((s, j) => s + (mixes[j].find((m) => m.key === lead.key)?.share ?? 0), 0) / others.length;
          if (lead.share - elsewhere >= MIN_SHARE_GAP) options.push({ key, score: lead.share - elsewhere, text: say(lead.key) });
        };
        categorical('category', categories, (v) => `mostly ${v}`);
        categorical('country', countries, (v) => `in ${v}`);
        // Look-alikes are close on the population's scale; between them, medians on the log scale the clustering uses.
        const log = (j: number, key: string) => Math.log1p(Math.max(0, personas[j].medians[key]));
        for (const f of features) {
          const gap = log(i, f.key) - others.reduce((s, j) => s + log(j, f.key), 0) / others.length;
          if (!(Math.abs(gap) >= MIN_LOG_GAP)) continue;
          const words = f.role === 'other' ? [`higher ${f.label ?? f.key}`, `lower ${f.label ?? f.key}`] : RELATIVE[f.role];
          options.push({ key: f.key, score: Math.abs(gap), text: words[gap > 0 ? 0 : 1] });
        }
        const next = options.filter((o) => !used[i].has(o.key)).sort((a, b) => b.score - a.score)[0];
        if (next) {
          used[i].add(next.key);
          qualifiers[i].push(next.text);
        }
      }
    }
  }
  // Whatever is still shared: the cluster's median of its most different feature, a fact about it.
  const seen = new Map<string, number>();
  personas.forEach((p, i) => seen.set(current(i), (seen.get(current(i)) ?? 0) + 1));
  personas.forEach((p, i) => {
    if ((seen.get(current(i)) ?? 0) > 1) {
      const f = [...features].sort((a, b) => Math.abs(p.zScores[b.key]) - Math.abs(p.zScores[a.key]))[0];
      qualifiers[i].push(`median ${f.label ?? f.key.replace(/_/g, ' ')} ${Number(p.medians[f.key].toPrecision(3))}`);
    }
    p.name = current(i);
  });
}
