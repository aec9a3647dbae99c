/**
 * Open-loop pacing: calls `send(i)` at `started + i × intervalMs` for i = 0 … count - 1 (or until
 * `stop`), without waiting for earlier sends, so a slow answer never delays the next request (no
 * coordinated omission). `send` gets the moment it was due, to measure latency from there.
 * Resolves when every send has settled, with how many were started.
 */
export async function openLoop(intervalMs: number, count: number, send: (index: number, dueAt: number) => Promise<void>, stop?: AbortSignal): Promise<number> {
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < count && !stop?.aborted; i += 1) {
    const dueAt = started + i * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(i, dueAt));
  }
  await Promise.all(pending);
  return pending.length;
}
