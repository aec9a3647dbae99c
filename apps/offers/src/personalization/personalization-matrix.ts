import { LIFECYCLE_STAGES } from '@segmenta/analytics';
import { eligibilityVerdict, lifecycleSegmentKey, referencedSegmentKeys, type OfferEligibility } from '../catalog/offer-rules';
import type { JourneyTrigger } from '../journeys/journey-definition';
import { rankOffers, stageInWords } from './offer-ranking';

/**
 * Which active offers a customer in each segment × lifecycle stage gets: what a loyalty team
 * checks before a campaign ("does an at-risk camera-intent customer see anything?"). Pure.
 */

export interface MatrixOffer {
  key: string;
  name: string;
  priority: number;
  eligibility: OfferEligibility;
}

/** An active journey, by what starts it. */
export interface MatrixJourney {
  key: string;
  name: string;
  trigger: JourneyTrigger;
}

export interface MatrixCell {
  /** null: a customer in none of the segments the offers name. */
  segment: string | null;
  /** The segment's name as segmentation gives it (its key while offers has not heard of it). */
  segmentName: string | null;
  lifecycleStage: string;
  offers: Array<{ key: string; name: string }>;
  /** The active journeys a customer of the cell may be sent through: those started by entering or leaving its segment or stage, and those started by an event or a loyalty event (anyone). */
  journeys: Array<{ key: string; name: string }>;
}

export interface PersonalizationMatrix {
  segments: Array<string | null>;
  /** The rows' segment names by key. */
  segmentNames: Record<string, string>;
  lifecycleStages: string[];
  cells: MatrixCell[];
}

const LIFECYCLE_KEYS = new Set<string>(LIFECYCLE_STAGES.map(lifecycleSegmentKey));

/**
 * One row per segment the offers name (lifecycle segments are the columns), plus a row for a
 * customer in none of them; in each cell the offers a member of just that segment in that stage
 * is eligible for, in priority order.
 */
export function personalizationMatrix(offers: readonly MatrixOffer[], knownNames: Readonly<Record<string, string>> = {}, journeys: readonly MatrixJourney[] = []): PersonalizationMatrix {
  const journeySegment = (j: MatrixJourney) => (j.trigger.type === 'segment_entered' || j.trigger.type === 'segment_exited' ? j.trigger.segment : null);
  const named = [...new Set([...offers.flatMap((o) => referencedSegmentKeys(o.eligibility)), ...journeys.flatMap((j) => journeySegment(j) ?? [])])].filter((key) => !LIFECYCLE_KEYS.has(key)).sort();
  const sortedJourneys = [...journeys].sort((a, b) => (a.key < b.key ? -1 : 1));
  const segments: Array<string | null> = [null, ...named];
  const segmentNames = Object.fromEntries(named.map((key) => [key, knownNames[key] ?? key]));
  const ranked = rankOffers(offers.map((o) => ({ ...o, expectedValue: 0 })));
  const cells: MatrixCell[] = [];
  for (const segment of segments)
    for (const stage of LIFECYCLE_STAGES) {
      const memberOf: Record<string, boolean> = { [lifecycleSegmentKey(stage)]: true };
      if (segment !== null) memberOf[segment] = true;
      const applying = ranked.filter((o) => eligibilityVerdict(o.eligibility, memberOf).eligible).map((o) => ({ key: o.key, name: o.name }));
      const sent = sortedJourneys.filter((j) => {
        const key = journeySegment(j);
        return key === null || memberOf[key] === true;
      });
      cells.push({ segment, segmentName: segment === null ? null : segmentNames[segment], lifecycleStage: stage, offers: applying, journeys: sent.map((j) => ({ key: j.key, name: j.name })) });
    }
  return { segments, segmentNames, lifecycleStages: [...LIFECYCLE_STAGES], cells };
}

/** A CSV field: quoted when needed; a leading =, +, - or @ is escaped so a spreadsheet shows it as text, not a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The matrix as a spreadsheet: a row per segment (its name, then its key), a column per lifecycle stage, offer names and then "journey: " names joined by "; " in each cell. */
export function matrixCsv(matrix: PersonalizationMatrix): string {
  const header = ['segment', 'key', ...matrix.lifecycleStages.map(stageInWords)];
  const rows = matrix.segments.map((segment) => [
    segment === null ? '(no segment)' : matrix.segmentNames[segment],
    segment ?? '',
    ...matrix.lifecycleStages.map((stage) => {
      const cell = matrix.cells.find((c) => c.segment === segment && c.lifecycleStage === stage);
      return [...(cell?.offers ?? []).map((o) => o.name), ...(cell?.journeys ?? []).map((j) => `journey: ${j.name}`)].join('; ');
    }),
  ]);
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
