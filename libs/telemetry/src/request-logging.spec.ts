import type { LogLevel } from '@nestjs/common';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createNestLogger } from './logger';
import { requestIds } from './request-context';
import { requestLogging, type RequestWithId } from './request-logging';

// A real HTTP server with the middleware in front of a handler, as createService mounts it.
describe('request logging', () => {
  const lines: string[] = [];
  const entries = () =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown> & { req?: { id: number; method: string; url: string; headers: Record<string, string> }; res?: { statusCode: number } });
  let server: Server | undefined;
  /** What the handler saw of each request: its id on the request, and the request context's. */
  const seen: Array<{ id?: number; context?: number }> = [];

  async function serve(level: LogLevel, unlogged: string[] = []) {
    const logger = createLogger({ service: 'offers', level, sink: (line) => lines.push(line) });
    const nestLogger = createNestLogger(logger);
    const middleware = requestLogging(logger, unlogged);
    server = createServer((req, res) =>
      middleware(req, res, () => {
        seen.push({ id: (req as RequestWithId).id, context: requestIds.getStore() });
        const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
        nestLogger.log('inside the request', 'Handler');
        if (req.url?.startsWith('/hang')) return; // never answers: the client gives up
        res.statusCode = status;
        res.end('{}');
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return { logger, port: (server?.address() as AddressInfo).port };
  }

  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path, headers }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)))
        .on('error', reject)
        .end(),
    );

  const waitForLines = async (count: number) => {
    for (let i = 0; i < 100 && lines.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  beforeEach(() => {
    lines.splice(0);
    seen.splice(0);
  });
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server?.closeAllConnections();
  });

  it('writes one line per request: method, url without query values, redacted headers, status, duration; warn for 4xx, error for 5xx', async () => {
    const { port } = await serve('log');
    await get(port, '/v1/profiles?email=ann%40example.com', { authorization: 'Bearer secret-key-1', cookie: 'sid=abc' });
    await get(port, '/v1/offers/x?status=404');
    await get(port, '/v1/offers?status=503');
    await waitForLines(6);
    const requestLines = entries().filter((e) => e.req);
    expect(requestLines.map((e) => [e.level, e.msg, e.req?.method, e.req?.url, e.res?.statusCode])).toEqual([
      ['info', 'request completed', 'GET', '/v1/profiles?email=[redacted]', 200],
      ['warn', 'request completed', 'GET', '/v1/offers/x?status=[redacted]', 404],
      ['error', 'request completed', 'GET', '/v1/offers?status=[redacted]', 503],
    ]);
    expect(requestLines[0]).toMatchObject({ service: 'offers', responseTime: expect.any(Number), req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } } });
    expect(lines.join('\n')).not.toMatch(/secret-key-1|sid=abc|ann/);
    // Each request has its own id, and what is logged while it is served carries it.
    const ids = requestLines.map((e) => e.req?.id);
    expect(new Set(ids).size).toBe(3);
    expect(
      entries()
        .filter((e) => e.msg === 'inside the request')
        .map((e) => e.reqId),
    ).toEqual(ids);
  });

  it('builds nothing for a line its level drops: no child logger, and a 4xx still gets its line at warn', async () => {
    const { logger, port } = await serve('warn');
    const child = jest.spyOn(logger, 'child');
    for (let i = 0; i < 20; i += 1) await get(port, '/v1/customers/c/offers');
    await get(port, '/v1/customers/c/offers?status=400');
    await waitForLines(1);
    expect(child).not.toHaveBeenCalled();
    expect(entries().map((e) => [e.level, e.res?.statusCode])).toEqual([['warn', 400]]);
    // No request context above info (it would hook every promise); the request still has the id its line carries.
    expect(seen.map((s) => s.context)).toEqual(new Array(21).fill(undefined));
    expect(seen[20].id).toBe(entries()[0].req?.id);
    expect(new Set(seen.map((s) => s.id)).size).toBe(21);
  });

  it('skips unlogged paths altogether and marks a request the client gave up on as aborted', async () => {
    const { port } = await serve('log', ['/v1/track']);
    await get(port, '/v1/track?x=1');
    expect(entries().filter((e) => e.req)).toEqual([]);
    expect(
      entries()
        .filter((e) => e.msg === 'inside the request')
        .map((e) => e.reqId),
    ).toEqual([undefined]);
    const aborted = request({ host: '127.0.0.1', port, path: '/hang' });
    aborted.on('error', () => undefined).end();
    await waitForLines(2);
    aborted.destroy();
    await waitForLines(3);
    expect(entries().find((e) => e.req)).toMatchObject({ level: 'warn', msg: 'request aborted', req: { url: '/hang' } });
  });
});
