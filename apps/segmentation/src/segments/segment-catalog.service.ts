import { Inject, Injectable } from '@nestjs/common';
import type { SegmentKind } from '@segmenta/contracts';
import { DATABASE, type Database } from '@segmenta/persistence';
import { compilePredicate, evaluationOrder, extractDependencies, type RuleDependencies, type SegmentDefinition, type SegmentPredicate } from '@segmenta/segment-rules';
import * as tables from '../db/schema';
import { isRuleSegment } from './segment-kinds';

/** An active segment, compiled once for the evaluators. */
export interface CompiledSegment {
  id: string;
  key: string;
  name: string;
  kind: SegmentKind;
  version: number;
  definition: SegmentDefinition;
  predicate: SegmentPredicate;
  dependencies: RuleDependencies;
}

export interface Catalog {
  /** Active rule segments in evaluation order (discovered clusters are assigned, not evaluated). */
  active: CompiledSegment[];
  /** Every segment, paused ones too (memberships and inSegment refer to them). */
  keyById: Map<string, string>;
  idByKey: Map<string, string>;
}

/** How long a replica may use its compiled catalog before it looks for edits made elsewhere. */
const CATALOG_TTL_MS = 2000;

/**
 * The active segments, compiled, in evaluation order (a segment after those it reads through
 * `inSegment`). Reloaded when this replica edits a segment and at most every two seconds.
 */
@Injectable()
export class SegmentCatalog {
  private cached: { at: number; catalog: Catalog } | undefined;
  /** A load in flight and the edit generation it started in: one started before an edit is not reused. */
  private loading: { generation: number; catalog: Promise<Catalog> } | undefined;
  private generation = 0;

  constructor(@Inject(DATABASE) private readonly database: Database<typeof tables>) {}

  invalidate(): void {
    this.generation += 1;
    this.cached = undefined;
  }

  async current(): Promise<Catalog> {
    if (this.cached && Date.now() - this.cached.at < CATALOG_TTL_MS) return this.cached.catalog;
    if (this.loading?.generation !== this.generation) {
      const generation = this.generation;
      const catalog = this.load(generation).finally(() => {
        if (this.loading?.generation === generation) this.loading = undefined;
      });
      this.loading = { generation, catalog };
    }
    return this.loading.catalog;
  }

  private async load(generation: number): Promise<Catalog> {
    const all = await this.database.db.select().from(tables.segments);
    const rows = all.filter((row) => row.status === 'active' && isRuleSegment(row));
    const compiled = new Map(
      rows.map((row) => {
        const definition = row.definition as SegmentDefinition;
        return [
          row.key,
          {
            id: row.id,
            key: row.key,
            name: row.name,
            kind: row.kind,
            version: row.version,
            definition,
            predicate: compilePredicate(definition),
            dependencies: extractDependencies(definition),
          } satisfies CompiledSegment,
        ] as const;
      }),
    );
    const order = evaluationOrder(new Map([...compiled.values()].map((s) => [s.key, s.dependencies.segments])));
    const active = order.map((key) => compiled.get(key)).filter((s): s is CompiledSegment => s !== undefined);
    const catalog = { active, keyById: new Map(all.map((r) => [r.id, r.key])), idByKey: new Map(all.map((r) => [r.key, r.id])) };
    if (generation === this.generation) this.cached = { at: Date.now(), catalog };
    return catalog;
  }
}
