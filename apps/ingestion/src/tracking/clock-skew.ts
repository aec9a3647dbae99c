/**
 * Segment's clock-skew correction: a device whose clock is off sends `timestamp` and `sentAt` from
 * the same wrong clock, so `receivedAt - (sentAt - timestamp)` puts the event on the server's clock.
 * Without sentAt the client's timestamp is taken as is; without a timestamp, the time of receipt.
 */
export function correctedTimestamp(receivedAt: Date, timestamp?: string, sentAt?: string): Date {
  if (!timestamp) return receivedAt;
  const original = Date.parse(timestamp);
  if (!sentAt) return new Date(original);
  return new Date(receivedAt.getTime() - (Date.parse(sentAt) - original));
}
