/** Which of `segmentKeys` each profile is a member of, from (profile, segment key) member rows: every asked pair answered. */
export function membershipMatrix(
  profileIds: readonly string[],
  segmentKeys: readonly string[],
  rows: ReadonlyArray<{ profile_id: string; segment_key: string }>,
): Map<string, Record<string, boolean>> {
  const held = new Set(rows.map((r) => `${r.profile_id}/${r.segment_key}`));
  const matrix = new Map<string, Record<string, boolean>>();
  for (const profileId of profileIds) matrix.set(profileId, Object.fromEntries(segmentKeys.map((key) => [key, held.has(`${profileId}/${key}`)])));
  return matrix;
}

/** Who a caller means: exactly one of a profile id, a user id, an anonymous id or an e-mail. */
export type ProfileReference = { profileId: string } | { userId: string } | { anonymousId: string } | { email: string };

export function identifierOf(reference: ProfileReference): { kind: 'user_id' | 'anonymous_id' | 'email'; value: string } | null {
  if ('userId' in reference) return { kind: 'user_id', value: reference.userId };
  if ('anonymousId' in reference) return { kind: 'anonymous_id', value: reference.anonymousId };
  if ('email' in reference) return { kind: 'email', value: reference.email.trim().toLowerCase() };
  return null;
}
