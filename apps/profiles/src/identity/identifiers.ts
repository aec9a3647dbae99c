import { IDENTITY_KINDS, type IdentityKindFamily, type SegmentMessageV1 } from '@segmenta/contracts';

/** One identifier of a call: `kind` is user_id, email, phone, anonymous_id or custom:<type>. */
export interface Identifier {
  kind: string;
  value: string;
  /** Only used to find a profile, never attached (alias previousId read as a user id). */
  lookupOnly?: boolean;
}

export const identifierKey = (identifier: Pick<Identifier, 'kind' | 'value'>) => `${identifier.kind}:${identifier.value}`;

export function kindFamily(kind: string): IdentityKindFamily {
  return kind.startsWith('custom:') ? 'custom' : (kind as IdentityKindFamily);
}

export function kindPriority(kind: string): number {
  const index = IDENTITY_KINDS.indexOf(kindFamily(kind));
  return index < 0 ? IDENTITY_KINDS.length : index;
}

export function normaliseEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : null;
}

/** Digits with a leading + kept; fewer than 6 digits is not a phone number. */
export function normalisePhone(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const raw = String(value).trim();
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 6) return null;
  return raw.startsWith('+') ? `+${digits}` : digits;
}

/**
 * The identifiers a Segment call carries, highest priority first: userId, traits.email (also
 * context.traits), traits.phone, context.externalIds (as custom:<type>), anonymousId. For alias,
 * previousId may be an earlier user id or an anonymous id: it is looked up as both and attached as
 * an anonymous id.
 */
export function extractIdentifiers(message: Pick<SegmentMessageV1, 'type' | 'userId' | 'anonymousId' | 'previousId' | 'traits' | 'context'>): Identifier[] {
  const found: Identifier[] = [];
  const add = (kind: string, value: string | null | undefined, lookupOnly = false) => {
    if (!value) return;
    if (found.some((i) => i.kind === kind && i.value === value)) return;
    found.push({ kind, value, ...(lookupOnly ? { lookupOnly } : {}) });
  };
  add('user_id', message.userId);
  const contextTraits = (message.context?.traits ?? {}) as Record<string, unknown>;
  add('email', normaliseEmail(message.traits?.email) ?? normaliseEmail(contextTraits.email));
  add('phone', normalisePhone(message.traits?.phone) ?? normalisePhone(contextTraits.phone));
  const externalIds = message.context?.externalIds;
  if (Array.isArray(externalIds)) {
    for (const external of externalIds as Array<Record<string, unknown>>) {
      if (external && typeof external.type === 'string' && (typeof external.id === 'string' || typeof external.id === 'number')) {
        add(`custom:${external.type.trim().toLowerCase()}`, String(external.id));
      }
    }
  }
  add('anonymous_id', message.anonymousId);
  if (message.type === 'alias' && message.previousId) {
    add('user_id', message.previousId, true);
    add('anonymous_id', message.previousId);
  }
  return found.sort((a, b) => kindPriority(a.kind) - kindPriority(b.kind));
}
