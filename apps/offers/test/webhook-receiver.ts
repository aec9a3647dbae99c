import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { JourneySendV1 } from '@segmenta/contracts';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  payload: JourneySendV1;
  verified: boolean;
}

/** A local receiver: verifies each delivery with the reference library and answers what `answer` says for its path. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server!: Server;
  url = '';
  secrets = new Map<string, string>();
  /** Status codes to answer, per path, in order (then 200). */
  readonly script = new Map<string, number[]>();

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        let verified = false;
        try {
          new Webhook(this.secrets.get(path) as string).verify(body, headers);
          verified = true;
        } catch {
          verified = false;
        }
        this.received.push({ path, headers, body, payload: JSON.parse(body) as JourneySendV1, verified });
        const status = this.script.get(path)?.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string) {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
