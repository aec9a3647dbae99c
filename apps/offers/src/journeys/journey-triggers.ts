import { propertyMatches } from '@segmenta/segment-rules';
import type { JourneyDefinition } from './journey-definition';

/**
 * Which journeys a message starts, ends or informs (issue 20), pure: the trigger of each active
 * journey's current version, its property filters, and the exits of the versions customers run.
 */

/** A membership change, a track event or a loyalty event, as triggers see it. */
export type TriggerMessage =
  | { kind: 'segment'; change: 'entered' | 'exited'; segment: string }
  | { kind: 'event'; event: string; properties: Record<string, unknown> }
  | { kind: 'loyalty'; event: 'tier_changed' | 'points_expiring'; tier: string | null };

/** Whether the message starts the journey. */
export function triggers(definition: JourneyDefinition, message: TriggerMessage): boolean {
  const t = definition.trigger;
  switch (t.type) {
    case 'segment_entered':
    case 'segment_exited':
      return message.kind === 'segment' && message.segment === t.segment && message.change === (t.type === 'segment_entered' ? 'entered' : 'exited');
    case 'event':
      return message.kind === 'event' && message.event === t.event && t.where.every((f) => propertyMatches(message.properties, f));
    case 'loyalty':
      return message.kind === 'loyalty' && message.event === t.event && (t.tier === null || t.tier === message.tier);
  }
}

/** How the message ends a running enrollment of this definition: left its segment, converted, or not at all. */
export function endsEnrollment(definition: JourneyDefinition, message: TriggerMessage): { status: 'exited' | 'converted'; reason: string } | null {
  if (message.kind === 'segment' && message.change === 'exited' && definition.exit.leftSegment && definition.trigger.type === 'segment_entered' && definition.trigger.segment === message.segment)
    return { status: 'exited', reason: `left segment ${message.segment}` };
  if (message.kind === 'event' && definition.exit.convertedOn !== null && message.event === definition.exit.convertedOn) return { status: 'converted', reason: `converted: ${message.event}` };
  return null;
}

/** Whether the definition's branches ask about this event (so a running enrollment keeps it). */
export function asksAboutEvent(definition: JourneyDefinition, event: string): boolean {
  return definition.steps.some((s) => s.type === 'branch' && s.condition.type === 'did_event' && s.condition.event === event);
}
