import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ConflictError, InvalidStateError, SingleFlight, scheduleJob } from '@segmenta/chassis';
import { CUSTOMER_CLUSTER_FEATURES, discoverClusters, matchClusterIds, matrix, type KChoice, type Persona } from '@segmenta/analytics';
import { SegmentationConfig } from '../config';
import { Clock } from '../membership/clock';
import { MembershipRepository, type MembershipChange, type RecordedChange } from '../membership/membership.repository';
import { MembershipService } from '../membership/membership.service';
import { SegmentCatalog } from '../segments/segment-catalog.service';
import { SegmentsRepository, type SegmentRow } from '../segments/segments.repository';
import { SegmentsService } from '../segments/segments.service';
import { SegmentDiscoveryRepository } from './segment-discovery.repository';

/** What a discovered cluster stores as its definition: where its centre lies (log1p of each feature). */
interface ClusterDefinition {
  cluster: { features: string[]; centroid: number[]; discoveredAt: string };
}

export interface DiscoveryOptions {
  kMin?: number;
  kMax?: number;
  seed?: number;
}

export interface DiscoverySummary {
  k: number;
  /** Mean silhouette ± standard error over resamples per k; k is the smallest within `noise` of the best (`bestK`). */
  silhouette: KChoice['scores'];
  bestK: number;
  noise: number;
  customers: number;
  segments: Array<{ id: string; key: string; name: string; size: number; persona: Persona }>;
  /** Keys of earlier clusters no new centre matched: paused. */
  retired: string[];
  entered: number;
  exited: number;
  tookMs: number;
}

/** Fewer customers with orders than this: nothing worth clustering. */
const MIN_CUSTOMERS = 50;

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

/**
 * Discovered micro-segments (ARCHITECTURE §6): k-means++ over every customer with orders (log-scaled,
 * standardised value, frequency, recency, basket and tenure), k the smallest whose silhouette is within noise of the best, stored as
 * segments of kind `cluster` with a descriptive name and a persona card. A re-run keeps a cluster's
 * segment (id and key) when a new centre lies nearest to it, and emits only membership differences.
 */
@Injectable()
export class SegmentDiscoveryService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SegmentDiscoveryService.name);
  private readonly running = new SingleFlight<DiscoverySummary>();

  constructor(
    private readonly segments: SegmentsRepository,
    private readonly segmentsService: SegmentsService,
    private readonly memberships: MembershipRepository,
    private readonly membershipService: MembershipService,
    private readonly catalog: SegmentCatalog,
    private readonly clock: Clock,
    private readonly config: SegmentationConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly repository: SegmentDiscoveryRepository,
  ) {}

  onApplicationBootstrap(): void {
    scheduleJob({ scheduler: this.scheduler, name: 'segment-discovery', cronTime: this.config.SEGMENTS_DISCOVER_CRON, what: 'segment discovery', work: () => this.discover(), logger: this.logger });
  }

  /** One run at a time: a call while one runs waits for it. */
  discover(options: DiscoveryOptions = {}): Promise<DiscoverySummary> {
    return this.running.run(() => this.run(options));
  }

  private async run(options: DiscoveryOptions): Promise<DiscoverySummary> {
    const started = Date.now();
    const profiles = await this.repository.customersWithOrders();
    if (profiles.length < MIN_CUSTOMERS) throw new InvalidStateError(`only ${profiles.length} customers with orders: at least ${MIN_CUSTOMERS} are needed to discover segments`);
    const value = (f: Record<string, unknown>, key: string) => (typeof f[key] === 'number' ? (f[key] as number) : 0);
    const features = CUSTOMER_CLUSTER_FEATURES;
    const raw = matrix(profiles.length, features.length);
    profiles.forEach((p, i) => features.forEach((f, j) => (raw.data[i * features.length + j] = value(p.features, f.key))));
    const { choice, fit, personas, mean, sd } = discoverClusters({
      features,
      values: raw,
      revenue: profiles.map((p) => Math.max(0, value(p.features, 'revenue'))),
      topCategory: profiles.map((p) => (typeof p.features.top_category === 'string' ? p.features.top_category : null)),
      lifecycleStage: profiles.map((p) => (typeof p.features.lifecycle_stage === 'string' ? p.features.lifecycle_stage : null)),
      kMin: options.kMin ?? this.config.SEGMENTS_DISCOVER_K_MIN,
      kMax: options.kMax ?? Math.max(this.config.SEGMENTS_DISCOVER_K_MAX, options.kMin ?? this.config.SEGMENTS_DISCOVER_K_MIN),
      seed: options.seed ?? 1,
    });

    // Earlier clusters, their centres standardised as today's data is: the nearest keeps its segment.
    const all = await this.segments.all();
    const earlier = all.filter((s) => s.kind === 'cluster');
    const cols = features.length;
    const previous = earlier.flatMap((s) => {
      const centroid = (s.definition as ClusterDefinition).cluster?.centroid;
      return Array.isArray(centroid) && centroid.length === cols ? [{ id: s.id, centroid: centroid.map((c, j) => (c - mean[j]) / sd[j]) }] : [];
    });
    let fresh = 0;
    const ids = matchClusterIds(previous, fit.centroids, cols, () => `new-${(fresh += 1)}`);
    const discoveredAt = new Date(this.clock.now()).toISOString();
    const keys = new Set(all.map((s) => s.key));
    const rows: SegmentRow[] = [];
    for (let c = 0; c < choice.k; c += 1) {
      const persona = personas[c] as Persona;
      const definition: ClusterDefinition = {
        cluster: { features: features.map((f) => f.key), centroid: Array.from({ length: cols }, (_, j) => fit.centroids[c * cols + j] * sd[j] + mean[j]), discoveredAt },
      };
      const description = `${persona.treatment.text} (${persona.size} customers, ${(persona.revenueShare * 100).toFixed(1)} % of revenue)`;
      const existing = earlier.find((s) => s.id === ids[c]);
      if (existing) {
        rows.push(await this.segments.update(existing.id, { name: persona.name, description, persona, definition, status: 'active', version: existing.version + 1 }));
        continue;
      }
      let key = `cluster-${slug(persona.name)}`;
      for (let n = 2; keys.has(key); n += 1) key = `cluster-${slug(persona.name)}-${n}`;
      keys.add(key);
      const row = await this.segments.insert({ id: randomUUID(), key, name: persona.name, description, kind: 'cluster', definition, persona, version: 1 });
      if (!row) throw new ConflictError(`segment key ${key} was taken meanwhile; run discovery again`);
      rows.push(row);
    }
    // Clusters no centre matched are paused: their members leave, their history stays.
    const retired = earlier.filter((s) => !ids.includes(s.id) && s.status === 'active');
    for (const s of retired) rows.push(await this.segments.update(s.id, { status: 'paused' }));
    this.catalog.invalidate();

    // Members: each customer in its cluster's segment, out of every other cluster segment.
    const target = new Map(profiles.map((p, i) => [`${rows[fit.labels[i]].id}|${p.profileId}`, rows[fit.labels[i]]]));
    const clusterIds = [...new Set([...earlier.map((s) => s.id), ...rows.map((r) => r.id)])];
    const current = await this.repository.membersOf(clusterIds);
    const have = new Set(current.map((m) => `${m.segmentId}|${m.profileId}`));
    const version = new Map(rows.map((r) => [r.id, r.version]));
    const changes: MembershipChange[] = [];
    for (const m of current)
      if (!target.has(`${m.segmentId}|${m.profileId}`)) changes.push({ segmentId: m.segmentId, profileId: m.profileId, change: 'exited', segmentVersion: version.get(m.segmentId) ?? 1 });
    for (const [pair, row] of target) if (!have.has(pair)) changes.push({ segmentId: row.id, profileId: pair.slice(pair.indexOf('|') + 1), change: 'entered', segmentVersion: row.version });
    const recorded: RecordedChange[] = [];
    // The messages name each segment by key: the new clusters' keys as well as the retired ones'.
    const keyById = new Map([...all, ...rows].map((s) => [s.id, s.key]));
    for (let i = 0; i < changes.length; i += 5000) {
      const chunk = changes.slice(i, i + 5000);
      recorded.push(...(await this.repository.transaction((tx) => this.membershipService.recordAndAnnounce(tx, chunk, new Date(discoveredAt), { keyById }))));
    }
    await this.repository.transaction(async (tx) => {
      await this.memberships.markEvaluated(
        tx,
        rows.map((r) => r.id),
        new Date(discoveredAt),
      );
      await this.segmentsService.announce(
        tx,
        rows.map((row) => ({ row, status: row.status })),
      );
    });
    this.membershipService.announced();
    const summary = {
      k: choice.k,
      silhouette: choice.scores,
      bestK: choice.bestK,
      noise: choice.noise,
      customers: profiles.length,
      segments: rows.filter((r) => r.status === 'active').map((r) => ({ id: r.id, key: r.key, name: r.name, size: (r.persona as Persona).size, persona: r.persona as Persona })),
      retired: retired.map((s) => s.key),
      entered: recorded.filter((c) => c.change === 'entered').length,
      exited: recorded.filter((c) => c.change === 'exited').length,
      tookMs: Date.now() - started,
    };
    this.logger.log(`discovered ${summary.k} segments over ${summary.customers} customers: ${summary.entered} entered, ${summary.exited} exited, ${summary.tookMs} ms`);
    return summary;
  }
}
