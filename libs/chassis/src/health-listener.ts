import { createServer, type Server } from 'node:http';

/**
 * Liveness on a port of its own (HEALTH_PORT). Under overload, a saturated HTTP port answers the
 * requests of its established connections but leaves a new connection's request unread for
 * seconds (issue 15: a probe on a new connection took 11 s while keep-alive requests took
 * 0.1–0.5 s); kubelets probe on new connections. A second listener with no middleware is served
 * in every turn of the event loop, so its answer waits for one turn at most.
 */
export async function startHealthListener(options: { port: number; host?: string; service: string }): Promise<Server> {
  const startedAt = Date.now();
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const live = (request.method === 'GET' || request.method === 'HEAD') && path === '/health';
    const body = live
      ? JSON.stringify({ status: 'ok', service: options.service, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) })
      : '{"statusCode":404,"error":"Not Found","message":"Only GET /health is served on this port","details":[]}';
    response.writeHead(live ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
