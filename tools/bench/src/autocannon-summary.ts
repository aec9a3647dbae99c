import type autocannon from 'autocannon';

/** What a forked load process prints of autocannon's result (one JSON line the bench reads). */
export function autocannonSummary(result: autocannon.Result) {
  return {
    requestsPerSecond: result.requests.average,
    requestsTotal: result.requests.total,
    ok: result['2xx'],
    notOk: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    durationSeconds: result.duration,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats?.count ?? 0])),
  };
}

/** The result line of every load process (autocannon's, or the paced one's in the same shape). */
export type LoadSummary = ReturnType<typeof autocannonSummary>;
