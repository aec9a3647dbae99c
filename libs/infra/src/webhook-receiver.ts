import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook<T = unknown> {
  path: string;
  headers: Record<string, string>;
  body: string;
  payload: T;
  /** What `verify` said of this delivery. */
  verified: boolean;
}

/**
 * A local HTTP receiver of webhooks for tests, the demo and benches: keeps every POST with its
 * headers and raw body, checks each with `verify` (given the path's secret), and answers with the
 * statuses scripted for its path, in order, then 200.
 */
export class WebhookReceiver<T = unknown> {
  readonly received: Array<ReceivedWebhook<T>> = [];
  /** The signing secret per path. */
  readonly secrets = new Map<string, string>();
  /** Status codes to answer, per path, in order (then 200). */
  readonly script = new Map<string, number[]>();
  url = '';
  private server: Server | undefined;

  constructor(private readonly verify: (secret: string, headers: Record<string, string>, body: string) => boolean = () => false) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const secret = this.secrets.get(path);
        this.received.push({ path, headers, body, payload: JSON.parse(body) as T, verified: secret !== undefined && this.verify(secret, headers, body) });
        const status = this.script.get(path)?.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 200 && status < 300 ? 'ok' : 'nope');
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Array<ReceivedWebhook<T>> {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
