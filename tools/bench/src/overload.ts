import { runLoadProcess } from './load-process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { freePort, startServiceProcess } from '@segmenta/infra';
import { fmt, median, percentile, print } from './report';

interface OverloadLoad {
  requestsTotal: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  durationSeconds: number;
}

/** One configuration of ingestion under the overload: a name, the environment it starts with, and whether it gets a HEALTH_PORT. */
export interface OverloadCase {
  name: string;
  env: Record<string, string>;
  healthPort?: boolean;
}

function runOverloadLoad(url: string, authorization: string, connections: number, seconds: number, runId: string): Promise<OverloadLoad> {
  return runLoadProcess<OverloadLoad>('overload-load.js', [url, authorization, String(connections), String(seconds), runId]);
}

/** GET /health on a new connection (as a kubelet probes), its latency in ms; 30 s when it never answers. */
function probeHealth(url: string | undefined): Promise<number> {
  if (!url) return Promise.resolve(Number.NaN);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}/health`, { agent: false, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(30_000));
    req.end();
  });
}

/**
 * Ingestion under many connections of single tracking calls (the overload of issue 15): /health
 * probed every 200 ms from this process on new connections (as a kubelet does), on PORT and on
 * HEALTH_PORT where the case has one, while the load process keeps every connection busy, for
 * each configuration (protections off as the baseline of the same run, then the defaults).
 */
export async function benchOverload(options: { natsUrl: string; prefix: string; postgresUrl?: string; runs: number; connections: number; seconds: number; cases: OverloadCase[] }): Promise<void> {
  print(`overload: ${options.connections} connections of single POST /v1/track calls for ${options.seconds} s, /health probed every 200 ms on new connections, load from a separate process`);
  const results = new Map<string, { health: number[]; healthMax: number[]; port: number[]; portMax: number[]; trackP99: number[]; accepted: number[]; shed: number[]; limited: number[] }>();
  for (let run = 1; run <= options.runs; run += 1) {
    for (const overloadCase of options.cases) {
      const adminKey = randomBytes(24).toString('base64url');
      const healthPort = overloadCase.healthPort ? await freePort() : undefined;
      const healthUrl = healthPort ? `http://127.0.0.1:${healthPort}` : undefined;
      const service = await startServiceProcess({
        app: 'ingestion',
        mode: 'dist',
        env: {
          NATS_URL: options.natsUrl,
          NATS_PREFIX: options.prefix,
          DATABASE_URL: options.postgresUrl,
          DATA_DIR: 'memory://',
          LOG_LEVEL: 'warn',
          ADMIN_API_KEY: adminKey,
          ...(healthPort ? { HEALTH_PORT: String(healthPort) } : {}),
          ...overloadCase.env,
        },
      });
      try {
        const source = await fetch(`${service.url}/v1/sources`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
          body: JSON.stringify({ name: `overload ${run}` }),
        }).then((r) => r.json() as Promise<{ writeKey: string }>);
        const authorization = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
        const probes: Array<Promise<number>> = [];
        const portProbes: Array<Promise<number>> = [];
        const load = runOverloadLoad(service.url, authorization, options.connections, options.seconds, `o${run}${overloadCase.name}`);
        // Probing starts with the load and ends with it.
        let loading = true;
        void load.finally(() => (loading = false));
        while (loading) {
          probes.push(probeHealth(service.url));
          portProbes.push(probeHealth(healthUrl));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const result = await load;
        const health = await Promise.all(probes);
        const port = await Promise.all(portProbes);
        const statuses = result.statuses;
        const entry = results.get(overloadCase.name) ?? { health: [], healthMax: [], port: [], portMax: [], trackP99: [], accepted: [], shed: [], limited: [] };
        entry.health.push(percentile(health, 99));
        entry.healthMax.push(Math.max(...health));
        entry.port.push(percentile(port, 99));
        entry.portMax.push(Math.max(...port));
        entry.trackP99.push(result.latencyP99);
        entry.accepted.push((statuses['200'] ?? 0) / result.durationSeconds);
        entry.shed.push(statuses['503'] ?? 0);
        entry.limited.push(statuses['429'] ?? 0);
        results.set(overloadCase.name, entry);
        print(
          `  run ${run} ${overloadCase.name}: /health p50 ${percentile(health, 50).toFixed(0)} ms, p99 ${percentile(health, 99).toFixed(0)} ms, max ${Math.max(...health).toFixed(0)} ms (${health.length} probes); ` +
            (healthUrl ? `HEALTH_PORT p50 ${percentile(port, 50).toFixed(0)} ms, p99 ${percentile(port, 99).toFixed(0)} ms, max ${Math.max(...port).toFixed(0)} ms; ` : '') +
            `/v1/track p50 ${result.latencyP50} ms, p99 ${result.latencyP99} ms, max ${result.latencyMax} ms, ${fmt(result.requestsTotal)} requests ${JSON.stringify(statuses)}, ${result.errors} errors, ${result.timeouts} timeouts, ${fmt((statuses['200'] ?? 0) / result.durationSeconds)} accepted/s`,
        );
      } finally {
        await service.stop();
      }
    }
  }
  print('');
  const ms = (values: number[]) => (Number.isNaN(median(values)) ? '–' : `${median(values).toFixed(0)} ms`);
  print('| configuration | /health on PORT p99 / max | /health on HEALTH_PORT p99 / max | /v1/track p99 | accepted/s | 503 | 429 |');
  print('|---|---|---|---|---|---|---|');
  for (const [name, r] of results) {
    print(
      `| ${name} | ${ms(r.health)} / ${ms(r.healthMax)} | ${ms(r.port)} / ${ms(r.portMax)} | ${median(r.trackP99)} ms | ${fmt(median(r.accepted))} | ${fmt(median(r.shed))} | ${fmt(median(r.limited))} |`,
    );
  }
  print('');
}
