/** The guards against wrong merges, from configuration (ARCHITECTURE §6, issue 4). */
export interface IdentityRules {
  /** Most identifiers of one kind a profile may hold (by exact kind, then by family: custom). */
  kindLimits: Record<string, number>;
  /** Most identifiers of all kinds a profile may hold. */
  maxIdentifiers: number;
  /** Most merges that may flow into one profile. */
  maxMerges: number;
}

export const DEFAULT_IDENTITY_RULES: IdentityRules = {
  kindLimits: { user_id: 1, email: 5, phone: 5, custom: 5 },
  maxIdentifiers: 1000,
  maxMerges: 100,
};

/** `user_id=1,email=5` → { user_id: 1, email: 5 }; throws naming the bad entry. */
export function parseKindLimits(text: string): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([a-z_]+(?::[a-z0-9_.-]+)?)=(\d+)$/i.exec(entry);
    if (!match || Number(match[2]) < 1) throw new Error(`"${entry}" is not kind=limit with a limit of at least 1`);
    limits[match[1].toLowerCase()] = Number(match[2]);
  }
  return limits;
}

/** `anonymous_id:0000,email:test@example.com` → identifiers; throws naming the bad entry. */
export function parseBlocklist(text: string): Array<{ kind: string; value: string }> {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':', entry.startsWith('custom:') ? 'custom:'.length : 0);
      if (at <= 0 || at === entry.length - 1) throw new Error(`"${entry}" is not kind:value`);
      return { kind: entry.slice(0, at).toLowerCase(), value: entry.slice(at + 1) };
    });
}

export function kindLimit(rules: IdentityRules, kind: string): number {
  return rules.kindLimits[kind] ?? (kind.startsWith('custom:') ? rules.kindLimits.custom : undefined) ?? rules.maxIdentifiers;
}
