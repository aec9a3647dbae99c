/** How far ahead of ingestion's clock a timestamp sent without sentAt may be (a server clock slightly fast). */
export const MAX_AHEAD_MS = 5 * 60 * 1000;

/**
 * Segment's clock-skew correction, bounded (README "Event time"): a device whose clock is off sends
 * `timestamp` and `sentAt` from the same wrong clock, so `receivedAt - (sentAt - timestamp)` puts
 * the event on the server's clock. A correction after the time of receipt (timestamp after sentAt)
 * or before 1970 means one of the two values is broken (sentAt 1900 dated events 2152, sentAt 2999
 * dated them 1053): the time of receipt is used instead. Not a bound on sentAt - timestamp itself:
 * server libraries send historical imports with sentAt now and timestamps years back. Without
 * sentAt the client's timestamp is taken as is unless it is after receipt + MAX_AHEAD_MS or before
 * 1970; without a timestamp, the time of receipt. The client's values travel on unchanged as
 * originalTimestamp and sentAt.
 */
export function correctedTimestamp(receivedAt: Date, timestamp?: string, sentAt?: string): Date {
  if (!timestamp) return receivedAt;
  const original = Date.parse(timestamp);
  const corrected = sentAt ? receivedAt.getTime() - (Date.parse(sentAt) - original) : original;
  const latest = receivedAt.getTime() + (sentAt ? 0 : MAX_AHEAD_MS);
  return Number.isFinite(corrected) && corrected >= 0 && corrected <= latest ? new Date(corrected) : receivedAt;
}
