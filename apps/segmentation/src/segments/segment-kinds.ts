import type { SegmentKind } from '@segmenta/contracts';
import { extractDependencies, type RuleDependencies, type SegmentDefinition } from '@segmenta/segment-rules';

/**
 * Discovered clusters have no rule: discovery assigns their members (nearest centroid), and the
 * evaluators leave them alone. Every other kind is a rule of the segment language.
 */
export const isRuleSegment = (row: { kind: SegmentKind }) => row.kind !== 'cluster';

const NONE: RuleDependencies = { traits: [], features: [], events: [], segments: [], timeDependent: false };

/** What a segment's rule reads (nothing for a discovered cluster). */
export function dependenciesOf(row: { kind: SegmentKind; definition: unknown }): RuleDependencies {
  return isRuleSegment(row) ? extractDependencies(row.definition as SegmentDefinition) : NONE;
}
