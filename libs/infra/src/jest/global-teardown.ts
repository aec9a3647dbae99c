/** Stops the private nats-server if global-setup started one. */
export default async function globalTeardown(): Promise<void> {
  const nats = globalThis.__segmentaNats;
  globalThis.__segmentaNats = undefined;
  if (nats) await nats.stop();
}
