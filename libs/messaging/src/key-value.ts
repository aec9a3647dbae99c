import { StringCodec, type KV, type NatsConnection, type QueuedIterator, type KvEntry } from 'nats';

const codec = StringCodec();

export interface KeyValueOptions {
  /** Stream replicas: 1 locally, 3 on a clustered NATS. */
  replicas?: number;
  description?: string;
}

/** A local copy of a whole bucket, kept current by a watch. */
export interface BucketMirror {
  /** Resolves once every value that existed when the watch started has arrived. */
  readonly ready: Promise<void>;
  /** Resolves once the copy holds every change up to `revision` (a write's own, for read-your-writes). */
  reached(revision: number): Promise<void>;
  stop(): Promise<void>;
}

export interface MirrorOptions {
  /** Called with the complete bucket (key → value) once ready and after every later change. */
  onChange(entries: ReadonlyMap<string, string>): void;
  log?: (level: 'warn' | 'error', message: string) => void;
  /** How long to wait before watching again after the watch ended (connection lost for good). */
  retryMs?: number;
}

/**
 * A JetStream key-value bucket holding string values, one revision per key (history 1). Writes
 * that must not lose a concurrent change use `update` with the revision read before.
 */
export class KeyValueBucket {
  private constructor(
    readonly name: string,
    private readonly kv: KV,
  ) {}

  /** Opens the bucket, creating it when it does not exist yet. */
  static async open(connection: NatsConnection, name: string, options: KeyValueOptions = {}): Promise<KeyValueBucket> {
    const kv = await connection.jetstream().views.kv(name, { history: 1, replicas: options.replicas ?? 1, description: options.description });
    return new KeyValueBucket(name, kv);
  }

  async get(key: string): Promise<{ value: string; revision: number } | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { value: codec.decode(entry.value), revision: entry.revision };
  }

  /** Writes a key that must not exist yet; throws when it does. */
  create(key: string, value: string): Promise<number> {
    return this.kv.create(key, codec.encode(value));
  }

  /** Compare-and-set: throws when the key changed since `revision`. */
  update(key: string, value: string, revision: number): Promise<number> {
    return this.kv.update(key, codec.encode(value), revision);
  }

  /** Every current value. */
  async values(): Promise<string[]> {
    const values: string[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.get(key);
      if (entry) values.push(entry.value);
    }
    return values;
  }

  /**
   * Keeps a local copy of the bucket. Readiness does not rely on the client's initializedFn: the
   * copy is complete once an entry at or past the stream's last sequence at start has arrived
   * (the watch delivers each key's last value in sequence order). A watch that ends while the
   * mirror runs (its subscription closed) is started again and rebuilds the copy from scratch.
   */
  mirror(options: MirrorOptions): BucketMirror {
    let stopped = false;
    let iterator: QueuedIterator<KvEntry> | undefined;
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    // The highest revision the published copy holds, and who waits for a later one.
    let reachedRevision = 0;
    let waiters: Array<{ revision: number; resolve: () => void }> = [];
    const advance = (revision: number) => {
      reachedRevision = Math.max(reachedRevision, revision);
      if (waiters.length === 0) return;
      const due = waiters.filter((w) => w.revision <= reachedRevision);
      waiters = waiters.filter((w) => w.revision > reachedRevision);
      for (const waiter of due) waiter.resolve();
    };
    const watchOnce = async () => {
      const entries = new Map<string, string>();
      const { state } = (await this.kv.status()).streamInfo;
      let live = state.messages === 0;
      const publish = (revision: number) => {
        options.onChange(entries);
        markReady();
        advance(revision);
      };
      if (live) publish(state.last_seq);
      iterator = await this.kv.watch();
      if (stopped) iterator.stop();
      for await (const entry of iterator) {
        if (entry.operation === 'PUT') entries.set(entry.key, codec.decode(entry.value));
        else entries.delete(entry.key);
        if (!live && entry.revision >= state.last_seq) live = true;
        if (live) publish(entry.revision);
      }
    };
    const loop = async () => {
      while (!stopped) {
        try {
          await watchOnce();
          if (!stopped) options.log?.('warn', `watch of bucket ${this.name} ended; watching again`);
        } catch (error) {
          if (stopped) break;
          options.log?.('error', `watch of bucket ${this.name} failed: ${(error as Error).message}; watching again`);
        }
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1000).unref());
      }
    };
    const running = loop();
    return {
      ready,
      reached: (revision) => (revision <= reachedRevision ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ revision, resolve }))),
      stop: async () => {
        stopped = true;
        for (const waiter of waiters) waiter.resolve();
        waiters = [];
        iterator?.stop();
        await running;
      },
    };
  }
}
