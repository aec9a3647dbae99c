import { LIFECYCLE_STAGES, RFM_GRID } from '@segmenta/analytics';
import type { SegmentKind } from '@segmenta/contracts';
import type { SegmentDefinition } from '@segmenta/segment-rules';

export interface BuiltinSegment {
  key: string;
  name: string;
  description: string;
  kind: SegmentKind;
  definition: SegmentDefinition;
}

const LIFECYCLE_NAMES: Record<(typeof LIFECYCLE_STAGES)[number], [string, string]> = {
  prospect: ['Prospects', 'Known, but no order yet'],
  new: ['New customers', 'First order within 30 days'],
  active: ['Active customers', 'Buying at their usual pace'],
  loyal: ['Loyal customers', 'Repeat buyers likely to stay'],
  at_risk: ['At-risk customers', 'Overdue against their own buying rhythm'],
  lapsed: ['Lapsed customers', 'No activity for a long time'],
};

/**
 * Segments every installation starts with (ARCHITECTURE §6): the standard RFM grid over the
 * rfm_r/rfm_f scores profiles computes, and the lifecycle stages. They are ordinary rule segments
 * afterwards: editable, pausable.
 */
export const BUILTIN_SEGMENTS: readonly BuiltinSegment[] = [
  ...RFM_GRID.map((cell) => {
    const byRecency = new Map<number, number[]>();
    for (const [r, f] of cell.cells) byRecency.set(r, [...(byRecency.get(r) ?? []), f]);
    const parts: SegmentDefinition[] = [...byRecency].map(([r, fs]) => ({
      all: [
        { feature: 'rfm_r', op: 'eq', value: r },
        { feature: 'rfm_f', op: 'in', value: fs },
      ],
    }));
    return { key: `rfm-${cell.key}`, name: `RFM: ${cell.name}`, description: cell.description, kind: 'rfm' as const, definition: parts.length === 1 ? parts[0] : { any: parts } };
  }),
  ...LIFECYCLE_STAGES.map((stage) => ({
    key: `lifecycle-${stage.replace('_', '-')}`,
    name: LIFECYCLE_NAMES[stage][0],
    description: LIFECYCLE_NAMES[stage][1],
    kind: 'lifecycle' as const,
    definition: { feature: 'lifecycle_stage', op: 'eq', value: stage } as SegmentDefinition,
  })),
];
