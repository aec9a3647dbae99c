import { sql } from 'drizzle-orm';
import { anyOf, type Db } from '@segmenta/persistence';

type Tx = Pick<Db, 'execute'>;

/**
 * A merge of profiles for journeys, in the read model's transaction: the merged-away customer's
 * enrollments, sends (which count toward caps) and entries become the survivor's; the survivor
 * keeps their own time zone when they have one.
 */
export async function mergeJourneys(tx: Tx, from: string, into: string): Promise<void> {
  await tx.execute(sql`update offers.journey_enrollments set profile_id = ${into}::uuid where profile_id = ${from}::uuid`);
  await tx.execute(sql`update offers.journey_deliveries set profile_id = ${into}::uuid where profile_id = ${from}::uuid`);
  await tx.execute(sql`insert into offers.journey_entries (journey_key, profile_id, last_entered_at, entries)
    select journey_key, ${into}::uuid, last_entered_at, entries from offers.journey_entries where profile_id = ${from}::uuid
    on conflict (journey_key, profile_id) do update set last_entered_at = greatest(offers.journey_entries.last_entered_at, excluded.last_entered_at),
      entries = offers.journey_entries.entries + excluded.entries`);
  await tx.execute(sql`delete from offers.journey_entries where profile_id = ${from}::uuid`);
  await tx.execute(sql`insert into offers.customer_time_zones (profile_id, time_zone) select ${into}::uuid, time_zone from offers.customer_time_zones where profile_id = ${from}::uuid
    on conflict (profile_id) do nothing`);
  await tx.execute(sql`delete from offers.customer_time_zones where profile_id = ${from}::uuid`);
}

/** Erasure (ADR 14) for journeys: the customers' enrollments, step runs, sends and their attempts, entries and time zones go. */
export async function eraseJourneys(tx: Tx, profileIds: string[]): Promise<void> {
  if (profileIds.length === 0) return;
  const ids = anyOf(profileIds, 'uuid');
  await tx.execute(sql`delete from offers.journey_delivery_attempts where delivery_id in (select id from offers.journey_deliveries where profile_id = ${ids})`);
  await tx.execute(sql`delete from offers.journey_deliveries where profile_id = ${ids}`);
  await tx.execute(sql`delete from offers.journey_step_runs where enrollment_id in (select id from offers.journey_enrollments where profile_id = ${ids})`);
  await tx.execute(sql`delete from offers.journey_enrollments where profile_id = ${ids}`);
  await tx.execute(sql`delete from offers.journey_entries where profile_id = ${ids}`);
  await tx.execute(sql`delete from offers.customer_time_zones where profile_id = ${ids}`);
}
