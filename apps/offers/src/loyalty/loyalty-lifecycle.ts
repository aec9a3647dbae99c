import { sql } from 'drizzle-orm';
import { anyOf, type Db } from '@segmenta/persistence';

type Tx = Pick<Db, 'execute'>;

/**
 * A merge of profiles (profiles.merged) for loyalty, in the read model's transaction: the merged-away
 * customer's ledger and lots become the survivor's, the balances add up, the better of the two tiers
 * stays, and a zero entry records the merge in the survivor's history.
 */
export async function mergeLoyalty(tx: Tx, from: string, into: string): Promise<void> {
  await tx.execute(sql`update offers.point_lots set profile_id = ${into}::uuid where profile_id = ${from}::uuid`);
  await tx.execute(sql`insert into offers.points_ledger (profile_id, kind, available_delta, pending_delta, cause, reason)
    select ${into}::uuid, 'adjust', 0, 0, ${`merge:${from}`}, ${`profiles merged: ${from} into ${into}`}
    where exists (select 1 from offers.points_ledger where profile_id = ${from}::uuid) on conflict do nothing`);
  await tx.execute(sql`update offers.points_ledger set profile_id = ${into}::uuid where profile_id = ${from}::uuid`);
  await tx.execute(sql`insert into offers.loyalty_accounts (profile_id) select ${into}::uuid
    where exists (select 1 from offers.loyalty_accounts where profile_id = ${from}::uuid) on conflict do nothing`);
  await tx.execute(sql`update offers.loyalty_accounts a set available = a.available + f.available, pending = a.pending + f.pending,
      lifetime_earned = a.lifetime_earned + f.lifetime_earned,
      tier = case when coalesce((select rank from offers.tiers where key = f.tier), -1) > coalesce((select rank from offers.tiers where key = a.tier), -1) then f.tier else a.tier end,
      tier_since = case when coalesce((select rank from offers.tiers where key = f.tier), -1) > coalesce((select rank from offers.tiers where key = a.tier), -1) then f.tier_since else a.tier_since end,
      tier_review_at = case when coalesce((select rank from offers.tiers where key = f.tier), -1) > coalesce((select rank from offers.tiers where key = a.tier), -1) then f.tier_review_at else a.tier_review_at end,
      updated_at = now()
    from offers.loyalty_accounts f where a.profile_id = ${into}::uuid and f.profile_id = ${from}::uuid`);
  await tx.execute(sql`delete from offers.loyalty_accounts where profile_id = ${from}::uuid`);
}

/** Erasure (ADR 14) for loyalty: the customers' accounts, ledgers and lots go. */
export async function eraseLoyalty(tx: Tx, profileIds: string[]): Promise<void> {
  if (profileIds.length === 0) return;
  const ids = anyOf(profileIds, 'uuid');
  await tx.execute(sql`delete from offers.point_lots where profile_id = ${ids}`);
  await tx.execute(sql`delete from offers.points_ledger where profile_id = ${ids}`);
  await tx.execute(sql`delete from offers.loyalty_accounts where profile_id = ${ids}`);
}
