import { metrics } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  connect,
  createInbox,
  headers as createHeaders,
  nanos,
  type ConsumerMessages,
  type JetStreamClient as NatsJetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type PubAck,
  type Subscription,
} from 'nats';
import {
  DEFAULT_NATS_PREFIX,
  MESSAGE_HEADERS,
  STREAMS,
  SUBJECTS,
  type Envelope,
  type StreamDefinition,
  type StreamKey,
} from '@segmenta/contracts';
import { extractTraceContext, injectTraceContext, inSpan } from '@segmenta/telemetry';
import { NonRetryableMessageError } from './errors';

export interface JetStreamClientOptions {
  url: string;
  /** Prefix of stream names and subjects (NATS_PREFIX). */
  prefix?: string;
  /** Connection name shown by the server (the service name). */
  name?: string;
  /** Stream replicas: 1 locally, 3 in a cluster. */
  replicas?: number;
  /** How long a publish waits for the stream's acknowledgement (default 5 s). */
  publishTimeoutMs?: number;
  log?: (level: 'log' | 'warn' | 'error', message: string) => void;
}

export interface ConsumerOptions {
  stream: StreamKey;
  /** Durable consumer name; replicas of one service share it and split the work. */
  durable: string;
  /** Relative subjects (without prefix) this consumer receives; default: the whole stream. */
  filterSubjects?: string[];
  /** Deliveries before a message moves to the DLQ. */
  maxDeliver?: number;
  /** How long the server waits for an ack before redelivering. */
  ackWaitMs?: number;
  /** Delay before the n-th retry (last value repeats). */
  backoffMs?: number[];
  /** Messages pulled per request; keep it small enough to process within ackWait. */
  batchSize?: number;
}

export interface BatchConsumerOptions extends ConsumerOptions {
  /** Messages handed to the handler at once (default 500). */
  maxBatch?: number;
  /**
   * Batches handled at the same time (default 1), as that many replicas would: only for handlers
   * whose writes are transactional and lock what they touch, since one customer's messages may
   * then be applied by two batches at once.
   */
  concurrency?: number;
  /**
   * Under load, the consumer starts a batch no sooner than this many milliseconds after it started
   * the previous one (unless a full batch is waiting): fewer, larger transactions for the same
   * messages. An idle consumer takes a new message at once. Default 0.
   */
  minBatchIntervalMs?: number;
}

export interface MessageContext {
  subject: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  streamSequence: number;
  partitionKey?: string;
}

export type MessageHandler<T = unknown> = (envelope: Envelope<T>, context: MessageContext) => Promise<void>;

export interface BatchMessage<T = unknown> {
  envelope: Envelope<T>;
  context: MessageContext;
}

/** Receives messages in stream order; all are acked once it resolves. */
export type BatchMessageHandler<T = unknown> = (messages: Array<BatchMessage<T>>) => Promise<void>;

export interface ConsumerHandle {
  readonly durable: string;
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF_MS = [250, 1000, 5000, 15000];
const codec = JSONCodec<unknown>();

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.type === 'string' && typeof v.occurredAt === 'string' && 'data' in v;
}

/**
 * JetStream behind a small API: idempotent stream provisioning, publishing envelopes with
 * Nats-Msg-Id, and durable pull consumers that ack only after the handler resolved, retry with
 * backoff and dead-letter after maxDeliver.
 */
export class JetStreamClient {
  readonly prefix: string;
  private readonly consumers = new Set<ConsumerHandle>();
  private readonly deadLettered = metrics.getMeter('segmenta').createCounter('segmenta.messaging.dead_lettered', {
    description: 'Messages moved to the DLQ stream after exhausting their deliveries',
  });

  private constructor(
    readonly connection: NatsConnection,
    private readonly js: NatsJetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamClientOptions,
  ) {
    this.prefix = options.prefix ?? DEFAULT_NATS_PREFIX;
  }

  static async connect(options: JetStreamClientOptions): Promise<JetStreamClient> {
    const connection = await connect({
      servers: options.url,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await connection.jetstreamManager();
    return new JetStreamClient(connection, connection.jetstream({ timeout: options.publishTimeoutMs ?? 5000 }), jsm, options);
  }

  streamName(stream: StreamKey): string {
    return `${this.prefix}_${STREAMS[stream].name}`;
  }

  subject(relative: string): string {
    return `${this.prefix}.${relative}`;
  }

  /** Creates or updates the given streams (default: all of ARCHITECTURE §3 plus the DLQ). */
  async provisionStreams(keys: StreamKey[] = Object.keys(STREAMS) as StreamKey[]): Promise<void> {
    for (const key of keys) {
      const definition: StreamDefinition = STREAMS[key];
      const config = {
        name: this.streamName(key),
        subjects: definition.subjects.map((s) => this.subject(s)),
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: this.options.replicas ?? 1,
        duplicate_window: nanos(2 * 60 * 1000),
      };
      try {
        const existing = (await this.jsm.streams.info(config.name)).config;
        // Update only on a real change: an update interrupts the pulls of running consumers.
        const unchanged =
          JSON.stringify([...existing.subjects].sort()) === JSON.stringify([...config.subjects].sort()) &&
          existing.num_replicas === config.num_replicas &&
          existing.duplicate_window === config.duplicate_window;
        if (!unchanged) await this.jsm.streams.update(config.name, config);
      } catch (error) {
        if (!/stream not found/i.test(String((error as Error).message))) throw error;
        try {
          await this.jsm.streams.add(config);
        } catch (addError) {
          // Another service created it between our look-up and add.
          if (!/already in use/i.test(String((addError as Error).message))) throw addError;
        }
      }
    }
  }

  /** Publishes an envelope and resolves once JetStream has stored it. */
  async publish<T>(relativeSubject: string, envelope: Envelope<T>, options: { partitionKey?: string } = {}): Promise<PubAck> {
    const subject = this.subject(relativeSubject);
    return inSpan(`publish ${relativeSubject}`, { kind: 'producer', attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': envelope.id } }, async () => {
      const headers = createHeaders();
      if (options.partitionKey) headers.set(MESSAGE_HEADERS.partitionKey, options.partitionKey);
      injectTraceContext(headers);
      return this.js.publish(subject, codec.encode(envelope), { msgID: envelope.id, headers, timeout: this.options.publishTimeoutMs });
    });
  }

  /**
   * Publishes many envelopes at once and resolves once JetStream has stored every one (rejects,
   * naming how many failed, otherwise). Pipelined: every message goes out at once with its own
   * reply subject under one inbox subscription, one timer for the whole lot and one producer span
   * whose trace context all messages carry, instead of one request, timer and span per message.
   */
  async publishMany(items: Array<{ subject: string; envelope: Envelope; partitionKey?: string }>): Promise<PubAck[]> {
    if (items.length === 0) return [];
    const subjects = new Set(items.map((item) => item.subject));
    // Named like a single publish when all go to one subject, so traces read the same either way.
    const spanName = subjects.size === 1 ? `publish ${items[0].subject}` : `publish ${items.length} messages`;
    return inSpan(spanName, { kind: 'producer', attributes: { 'messaging.system': 'nats', 'messaging.batch.message_count': items.length } }, async () => {
      const sub = await this.ackInbox();
      const batchId = (this.batchCounter += 1);
      // Filled, not sparse: a hole would be skipped by filter() and a missing ack would go unnoticed.
      const acks: Array<PubAck | undefined> = Array.from({ length: items.length }, () => undefined);
      const errors: string[] = [];
      let outstanding = items.length;
      const done = new Promise<void>((resolve) => {
        this.pendingBatches.set(batchId, (index, reply) => {
          if (acks[index] !== undefined) return;
          if ('error' in reply) errors.push(reply.error.description ?? `code ${reply.error.code}`);
          else acks[index] = reply;
          outstanding -= 1;
          if (outstanding === 0) resolve();
        });
      });
      const timeoutMs = this.options.publishTimeoutMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      try {
        items.forEach((item, index) => {
          const headers = createHeaders();
          headers.set('Nats-Msg-Id', item.envelope.id);
          if (item.partitionKey) headers.set(MESSAGE_HEADERS.partitionKey, item.partitionKey);
          injectTraceContext(headers);
          this.connection.publish(this.subject(item.subject), codec.encode(item.envelope), { reply: `${sub.getSubject().slice(0, -1)}${batchId}.${index}`, headers });
        });
        await Promise.race([done, timedOut]);
      } finally {
        clearTimeout(timer);
        this.pendingBatches.delete(batchId);
      }
      const missing = acks.filter((ack) => ack === undefined).length;
      if (missing > 0) {
        throw new Error(`JetStream did not acknowledge ${missing} of ${items.length} messages${errors.length ? `: ${errors[0]}` : ` within ${timeoutMs} ms`}`);
      }
      return acks as PubAck[];
    });
  }

  private batchCounter = 0;
  private readonly pendingBatches = new Map<number, (index: number, reply: PubAck | { error: { code: number; description?: string } }) => void>();
  private ackSubscription: Subscription | undefined;

  /** One wildcard inbox for the acks of every publishMany: `<inbox>.<batch>.<index>`. */
  private async ackInbox(): Promise<Subscription> {
    if (this.ackSubscription && !this.ackSubscription.isClosed()) return this.ackSubscription;
    const inbox = createInbox();
    this.ackSubscription = this.connection.subscribe(`${inbox}.>`, {
      callback: (error, msg) => {
        if (error) return;
        const [batch, index] = msg.subject.slice(inbox.length + 1).split('.').map(Number);
        const settle = this.pendingBatches.get(batch);
        if (!settle) return;
        try {
          settle(index, JSON.parse(new TextDecoder().decode(msg.data)) as PubAck);
        } catch {
          settle(index, { error: { code: 0, description: 'unreadable ack' } });
        }
      },
    });
    // Make sure the server knows the subscription before the first reply can arrive.
    await this.connection.flush();
    return this.ackSubscription;
  }

  /** Starts a durable pull consumer that handles one message at a time; resolves once it is subscribed. */
  async consume<T>(options: ConsumerOptions, handler: MessageHandler<T>): Promise<ConsumerHandle> {
    return this.startConsumer(options, 1, async ([msg]) => this.handleMessage(options, msg, handler as MessageHandler));
  }

  /**
   * Starts a durable pull consumer whose handler receives every message that is waiting, up to
   * `maxBatch`, in stream order, so that it can apply them in one transaction. All are acked after
   * the handler resolved. When it throws, the messages are handled one at a time, so that one bad
   * message is retried and dead-lettered on its own and does not hold the others back.
   */
  async consumeBatch<T>(options: BatchConsumerOptions, handler: BatchMessageHandler<T>): Promise<ConsumerHandle> {
    return this.startConsumer(options, options.maxBatch ?? 500, async (msgs) => this.handleBatch(options, msgs, handler as BatchMessageHandler), options.concurrency ?? 1, options.minBatchIntervalMs ?? 0);
  }

  private async startConsumer(options: ConsumerOptions, maxBatch: number, process: (msgs: JsMsg[]) => Promise<void>, concurrency = 1, minBatchIntervalMs = 0): Promise<ConsumerHandle> {
    const stream = this.streamName(options.stream);
    await this.ensureConsumer(stream, options);
    let stopped = false;
    let messages: ConsumerMessages | undefined;
    const open = async () => {
      const consumer = await this.js.consumers.get(stream, options.durable);
      // Short pull expiry: a pull the server dropped is noticed (missed heartbeat) and renewed in seconds.
      messages = await consumer.consume({ max_messages: options.batchSize ?? Math.max(32, maxBatch), expires: 5000 });
      return messages;
    };
    // Messages wait here while the previous ones are processed; the consumer's max_ack_pending
    // bounds how many the server hands out before it sees acks.
    const waiting: JsMsg[] = [];
    // Up to `concurrency` workers, each taking the next batch in stream order as it frees up; another
    // worker starts only when more than a batch per running worker is waiting, so batches stay full.
    const working = new Set<Promise<void>>();
    // When the last batch started (minBatchIntervalMs spaces batches out, whichever worker ran them).
    let lastStartedAt = -Infinity;
    const work = async () => {
      while (waiting.length > 0 && !stopped) {
        const wait = lastStartedAt + minBatchIntervalMs - performance.now();
        if (wait > 0 && waiting.length < maxBatch) await new Promise((resolve) => setTimeout(resolve, wait));
        if (stopped) break;
        lastStartedAt = performance.now();
        await process(waiting.splice(0, maxBatch));
      }
    };
    const startWorkers = () => {
      while (working.size < concurrency && working.size * maxBatch < waiting.length) {
        const worker = work().finally(() => working.delete(worker));
        working.add(worker);
      }
    };
    const first = await open();
    // The pull loop: if the server ends it (stream or consumer updated, server restarted, …) it is
    // opened again, so a consumer never silently stops consuming.
    const loop = (async () => {
      let current: ConsumerMessages | undefined = first;
      while (!stopped) {
        try {
          current ??= await open();
          for await (const msg of current) {
            waiting.push(msg);
            startWorkers();
          }
        } catch (error) {
          this.log('warn', `consumer ${options.durable} interrupted: ${(error as Error).message}`);
        }
        current = undefined;
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const handle: ConsumerHandle = {
      durable: options.durable,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        this.consumers.delete(handle);
        messages?.stop();
        await loop;
        // Finish what is in hand; hand back what was only buffered so that another replica gets it now.
        await Promise.all(working);
        for (const msg of waiting.splice(0)) msg.nak();
      },
    };
    this.consumers.add(handle);
    return handle;
  }

  /** Stops the consumers (finishing the message in hand) and drains the connection. */
  async drain(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    if (this.connection.isClosed()) return;
    // A connection that lost its server cannot drain; do not let shutdown wait for it forever.
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.connection.drain().then(() => true, () => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
    ]);
    clearTimeout(timer);
    if (!drained && !this.connection.isClosed()) await this.connection.close();
  }

  /** Closes without draining: what a crash looks like to the server. */
  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.close();
  }

  private async ensureConsumer(stream: string, options: ConsumerOptions): Promise<void> {
    const filters = (options.filterSubjects ?? []).map((s) => this.subject(s));
    const config = {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(options.ackWaitMs ?? 30000),
      // The client dead-letters after maxDeliver; the server never drops a message on its own,
      // so a crash during the last attempt cannot lose it.
      max_deliver: -1,
      max_ack_pending: 1000,
      // nats.js merges an update into the existing config: the key must be present (even as
      // undefined, which the request then omits) or a filter of an earlier deployment would stay.
      ...((filters.length <= 1 ? { filter_subject: filters[0] } : { filter_subjects: filters }) as { filter_subject?: string; filter_subjects?: string[] }),
    };
    try {
      const existing = (await this.jsm.consumers.info(stream, options.durable)).config;
      // Update only on a real change: an update drops the pending pulls of running replicas.
      const unchanged =
        (existing.filter_subject ?? undefined) === config.filter_subject &&
        JSON.stringify(existing.filter_subjects ?? []) === JSON.stringify(config.filter_subjects ?? []) &&
        existing.ack_wait === config.ack_wait &&
        existing.max_deliver === config.max_deliver &&
        existing.max_ack_pending === config.max_ack_pending;
      if (!unchanged) await this.jsm.consumers.update(stream, options.durable, config);
    } catch (error) {
      if (!/consumer not found/i.test(String((error as Error).message))) throw error;
      await this.jsm.consumers.add(stream, config);
    }
  }

  private async handleMessage(options: ConsumerOptions, msg: JsMsg, handler: MessageHandler): Promise<void> {
    const deliveryCount = msg.info.redeliveryCount;
    const maxDeliver = options.maxDeliver ?? 5;
    try {
      const envelope = this.decode(msg);
      const context = this.contextOf(msg);
      await inSpan(
        `process ${msg.subject.slice(this.prefix.length + 1)}`,
        {
          kind: 'consumer',
          parent: extractTraceContext(msg.headers),
          attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': options.durable, 'messaging.message.id': envelope.id },
        },
        () => handler(envelope, context),
      );
    } catch (error) {
      const retryable = !(error instanceof NonRetryableMessageError);
      if (retryable && deliveryCount < maxDeliver) {
        const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
        const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)];
        this.log('warn', `${options.durable}: delivery ${deliveryCount}/${maxDeliver} of ${msg.subject} #${msg.seq} failed, retrying in ${delay} ms: ${(error as Error).message}`);
        msg.nak(delay);
        return;
      }
      await this.deadLetter(options, msg, error as Error, deliveryCount);
      return;
    }
    try {
      await msg.ackAck();
    } catch (error) {
      // The work committed; a lost ack means a redelivery that the handler's idempotency absorbs.
      this.log('warn', `${options.durable}: ack of ${msg.subject} #${msg.seq} not confirmed: ${(error as Error).message}`);
    }
  }

  private async handleBatch(options: ConsumerOptions, msgs: JsMsg[], handler: BatchMessageHandler): Promise<void> {
    const items: Array<{ msg: JsMsg; message: BatchMessage }> = [];
    for (const msg of msgs) {
      try {
        items.push({ msg, message: { envelope: this.decode(msg), context: this.contextOf(msg) } });
      } catch (error) {
        await this.deadLetter(options, msg, error as Error, msg.info.redeliveryCount);
      }
    }
    if (items.length === 0) return;
    if (items.length === 1) {
      // Retries and dead-lettering of a single message follow the per-message policy.
      await this.handleMessage(options, items[0].msg, (envelope, context) => handler([{ envelope, context }]));
      return;
    }
    try {
      await inSpan(
        `process ${items.length} messages`,
        {
          kind: 'consumer',
          // A span has one parent: the first message's trace; the batch size is an attribute.
          parent: extractTraceContext(items[0].msg.headers),
          attributes: { 'messaging.system': 'nats', 'messaging.consumer.group.name': options.durable, 'messaging.batch.message_count': items.length },
        },
        () => handler(items.map((item) => item.message)),
      );
    } catch (error) {
      this.log('warn', `${options.durable}: batch of ${items.length} failed (${(error as Error).message}); handling its messages one at a time`);
      for (const item of items) await this.handleMessage(options, item.msg, (envelope, context) => handler([{ envelope, context }]));
      return;
    }
    // Plain acks, flushed once: a lost ack means a redelivery that the handler's idempotency absorbs.
    for (const item of items) item.msg.ack();
    try {
      await this.connection.flush();
    } catch (error) {
      this.log('warn', `${options.durable}: acks of ${items.length} messages not flushed: ${(error as Error).message}`);
    }
  }

  private contextOf(msg: JsMsg): MessageContext {
    return {
      subject: msg.subject,
      deliveryCount: msg.info.redeliveryCount,
      streamSequence: msg.seq,
      partitionKey: msg.headers?.has(MESSAGE_HEADERS.partitionKey) ? msg.headers.get(MESSAGE_HEADERS.partitionKey) : undefined,
    };
  }

  private decode(msg: JsMsg): Envelope {
    let value: unknown;
    try {
      value = codec.decode(msg.data);
    } catch (error) {
      throw new NonRetryableMessageError(`message is not JSON: ${(error as Error).message}`);
    }
    if (!isEnvelope(value)) throw new NonRetryableMessageError('message is not an envelope { id, type, occurredAt, data }');
    return value;
  }

  private async deadLetter(options: ConsumerOptions, msg: JsMsg, error: Error, deliveryCount: number): Promise<void> {
    const headers = createHeaders();
    headers.set(MESSAGE_HEADERS.error, error.message.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    headers.set(MESSAGE_HEADERS.originalSubject, msg.subject);
    headers.set(MESSAGE_HEADERS.originalStream, this.streamName(options.stream));
    headers.set(MESSAGE_HEADERS.deliveries, String(deliveryCount));
    if (msg.headers) for (const key of ['traceparent', 'tracestate']) if (msg.headers.has(key)) headers.set(key, msg.headers.get(key));
    try {
      await this.js.publish(this.subject(SUBJECTS.deadLetter(STREAMS[options.stream].name)), msg.data, {
        headers,
        msgID: `dlq:${options.durable}:${msg.info.stream}:${msg.seq}`,
      });
    } catch (publishError) {
      // Could not park it: keep it on the stream and try again later rather than lose it.
      this.log('error', `${options.durable}: could not dead-letter ${msg.subject} #${msg.seq}: ${(publishError as Error).message}`);
      msg.nak(5000);
      return;
    }
    this.deadLettered.add(1, { stream: options.stream, consumer: options.durable });
    this.log('error', `${options.durable}: ${msg.subject} #${msg.seq} moved to DLQ after ${deliveryCount} deliveries: ${error.message}`);
    msg.term();
  }

  private log(level: 'log' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}
