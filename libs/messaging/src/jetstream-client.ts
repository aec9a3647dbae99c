import { metrics } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  DiscardPolicy,
  StorageType,
  connect,
  createInbox,
  headers as createHeaders,
  nanos,
  type ConsumerMessages,
  type JetStreamClient as NatsJetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type KV,
  type MsgHdrs,
  type NatsConnection,
  type PubAck,
  type Subscription,
} from 'nats';
import { DEFAULT_NATS_PREFIX, MESSAGE_HEADERS, STREAMS, SUBJECTS, type Envelope, type StreamDefinition, type StreamKey } from '@segmenta/contracts';
import { isTransientDatabaseError } from '@segmenta/persistence';
import { extractTraceContext, injectTraceContext, inSpan } from '@segmenta/telemetry';
import { NonRetryableMessageError } from './errors';
import { streamRetentionFromEnv, type StreamRetention } from './stream-retention';

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
  /** Age and size limits per stream (default: NATS_STREAM_* variables, else DEFAULT_STREAM_RETENTION). */
  retention?: Partial<Record<StreamKey, StreamRetention>>;
}

export interface ConsumerOptions {
  stream: StreamKey;
  /** Durable consumer name; replicas of one service share it and split the work. */
  durable: string;
  /** Relative subjects (without prefix) this consumer receives; default: the whole stream. */
  filterSubjects?: string[];
  /** Attempts at a message before it moves to the DLQ, whether they failed, crashed or hung (ADR 13). */
  maxDeliver?: number;
  /** How long the server waits for an ack before redelivering; running handlers signal progress meanwhile. */
  ackWaitMs?: number;
  /** A handler that has not finished after this long counts as failed and its messages are no longer kept alive (default 4 × ackWait). */
  maxProcessingMs?: number;
  /** Delay before the n-th retry (last value repeats). */
  backoffMs?: number[];
  /** Messages pulled per request; keep it small enough to process within ackWait. */
  batchSize?: number;
  /** Messages the server hands out before it sees acks: the most a crashed replica holds until its ack wait ends. */
  maxAckPending?: number;
  /**
   * Failures of the infrastructure rather than of the message (default: the database is
   * unreachable or restarting). The messages are kept, unacked and alive, and the handler is run
   * again with backoff until it succeeds: an outage is not counted toward maxDeliver (ADR 16).
   */
  isTransient?: (error: unknown) => boolean;
  /** Delay before the n-th run again after a transient failure (last value repeats). */
  transientBackoffMs?: number[];
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

/** A message in a stream: the full stream name (with NATS_PREFIX) and its sequence. */
export interface StreamLocation {
  stream: string;
  seq: number;
}

/** A message a consumer gave up on, as kept by the DLQ stream. */
export interface DeadLetter {
  /** Sequence in the DLQ stream: the id to replay or discard it by. */
  seq: number;
  stream: string;
  consumer: string;
  subject: string;
  envelopeId: string | null;
  error: string;
  deliveries: number;
  firstFailureAt: string | null;
  lastFailureAt: string | null;
  deadLetteredAt: string;
}

/** What the attempts bucket keeps of a redelivered message: attempts started alone, and their last error. */
interface AttemptRecord {
  attempts: number;
  first: string;
  last: string;
  error: string | null;
}

const DEFAULT_BACKOFF_MS = [250, 1000, 5000, 15000];
/** A crashed consumer's messages go to another replica after this long (ADR 16: measured). */
const DEFAULT_ACK_WAIT_MS = 3000;
/** A handler still running after this long counts as hung (ADR 13). */
const DEFAULT_MAX_PROCESSING_MS = 120000;
const DEFAULT_MAX_ACK_PENDING = 1000;
const DEFAULT_TRANSIENT_BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** A running consumer's state that its message handling needs: whether it is stopping. */
interface ConsumerRun {
  stopped: boolean;
}

/** The consumer stopped while an outage held its messages: they go back to the server, uncounted. */
class StoppedDuringOutage extends Error {}
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
  /** Every consumer's options and per-message handler, by durable name: what replaying a dead letter runs. */
  private readonly handlers = new Map<string, { options: ConsumerOptions; handler: MessageHandler }>();
  private attemptsBucket: Promise<KV> | undefined;
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
    const retention = { ...streamRetentionFromEnv(process.env), ...this.options.retention };
    for (const key of keys) {
      const definition: StreamDefinition = STREAMS[key];
      const config = {
        name: this.streamName(key),
        subjects: definition.subjects.map((s) => this.subject(s)),
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: this.options.replicas ?? 1,
        duplicate_window: nanos(2 * 60 * 1000),
        // Bounded: old messages (personal data among them) go once they are past their use.
        max_age: nanos(retention[key].maxAgeMs),
        max_bytes: retention[key].maxBytes,
        discard: DiscardPolicy.Old,
      };
      try {
        const existing = (await this.jsm.streams.info(config.name)).config;
        // Update only on a real change: an update interrupts the pulls of running consumers.
        const unchanged =
          JSON.stringify([...existing.subjects].sort()) === JSON.stringify([...config.subjects].sort()) &&
          existing.num_replicas === config.num_replicas &&
          existing.duplicate_window === config.duplicate_window &&
          existing.max_age === config.max_age &&
          existing.max_bytes === config.max_bytes &&
          existing.discard === config.discard;
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
    return inSpan(
      `publish ${relativeSubject}`,
      { kind: 'producer', attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': envelope.id } },
      async () => {
        const headers = createHeaders();
        if (options.partitionKey) headers.set(MESSAGE_HEADERS.partitionKey, options.partitionKey);
        injectTraceContext(headers);
        return this.js.publish(subject, codec.encode(envelope), { msgID: envelope.id, headers, timeout: this.options.publishTimeoutMs });
      },
    );
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
        const [batch, index] = msg.subject
          .slice(inbox.length + 1)
          .split('.')
          .map(Number);
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
    this.handlers.set(options.durable, { options, handler: handler as MessageHandler });
    return this.startConsumer(options, 1, async ([msg], run) => this.handleMessage(options, msg, handler as MessageHandler, run));
  }

  /**
   * Starts a durable pull consumer whose handler receives every message that is waiting, up to
   * `maxBatch`, in stream order, so that it can apply them in one transaction. All are acked after
   * the handler resolved. When it throws, the messages are handled one at a time, so that one bad
   * message is retried and dead-lettered on its own and does not hold the others back.
   */
  async consumeBatch<T>(options: BatchConsumerOptions, handler: BatchMessageHandler<T>): Promise<ConsumerHandle> {
    this.handlers.set(options.durable, { options, handler: (envelope, context) => (handler as BatchMessageHandler)([{ envelope, context }]) });
    return this.startConsumer(
      options,
      options.maxBatch ?? 500,
      async (msgs, run) => this.handleBatch(options, msgs, handler as BatchMessageHandler, run),
      options.concurrency ?? 1,
      options.minBatchIntervalMs ?? 0,
    );
  }

  private async startConsumer(
    options: ConsumerOptions,
    maxBatch: number,
    process: (msgs: JsMsg[], run: ConsumerRun) => Promise<void>,
    concurrency = 1,
    minBatchIntervalMs = 0,
  ): Promise<ConsumerHandle> {
    const stream = this.streamName(options.stream);
    await this.ensureConsumer(stream, options, maxBatch * concurrency);
    const run: ConsumerRun = { stopped: false };
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
    // Buffered messages are kept alive like those in hand: with a short ack wait (a crash costs
    // at most that long, ADR 16) they must not be redelivered while they wait their turn, and
    // during a database outage the buffer waits as long as the outage.
    const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const keepAlive = setInterval(
      () => {
        for (const msg of waiting) msg.working();
      },
      Math.max(100, Math.floor(ackWaitMs / 3)),
    );
    keepAlive.unref();
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
        await process(waiting.splice(0, maxBatch), run);
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
        run.stopped = true;
        this.consumers.delete(handle);
        messages?.stop();
        await loop;
        // Finish what is in hand; hand back what was only buffered so that another replica gets it now.
        await Promise.all(working);
        clearInterval(keepAlive);
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
      this.connection.drain().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
    ]);
    clearTimeout(timer);
    if (!drained && !this.connection.isClosed()) await this.connection.close();
  }

  /** Closes without draining: what a crash looks like to the server. */
  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.close();
  }

  private async ensureConsumer(stream: string, options: ConsumerOptions, inHand: number): Promise<void> {
    const filters = (options.filterSubjects ?? []).map((s) => this.subject(s));
    const config = {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      // The client dead-letters after maxDeliver; the server never drops a message on its own,
      // so a crash during the last attempt cannot lose it.
      max_deliver: -1,
      max_ack_pending: options.maxAckPending ?? Math.max(DEFAULT_MAX_ACK_PENDING, inHand),
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

  /**
   * One message on its own. A redelivered message (a failed attempt, or a consumer that crashed or
   * hung while it held it) is a suspect: its attempts are counted in the attempts bucket before
   * each starts, so one that kills or stalls the process is dead-lettered on receipt once
   * maxDeliver attempts started, while messages that were merely delivered alongside it (never
   * started alone) are applied (ADR 13).
   */
  private async handleMessage(options: ConsumerOptions, msg: JsMsg, handler: MessageHandler, run: ConsumerRun): Promise<void> {
    const deliveryCount = msg.info.redeliveryCount;
    const maxDeliver = options.maxDeliver ?? 5;
    // The deliveries before the first one alone count as one attempt, however many there were:
    // a delivery count also grows when the server hands a message to a pull of a process that has
    // died, so it is no count of attempts.
    const uncounted = 1;
    let envelope: Envelope;
    try {
      envelope = this.decode(msg.data);
    } catch (error) {
      await this.deadLetter(options, msg, error as Error, deliveryCount);
      return;
    }
    const suspect = deliveryCount > 1;
    const key = `${options.durable}.${msg.seq}`;
    let record: AttemptRecord | undefined;
    if (suspect) {
      record = await this.attemptRecord(key);
      // The first delivery started without a record: it counts as one attempt.
      if (uncounted + (record?.attempts ?? 0) >= maxDeliver) {
        const reason = record?.error ?? `the consumer stopped during each of ${uncounted + (record?.attempts ?? 0)} attempts (a crash or a hang)`;
        await this.deadLetter(options, msg, new Error(reason), deliveryCount, record);
        return;
      }
      const now = new Date().toISOString();
      record = { attempts: (record?.attempts ?? 0) + 1, first: record?.first ?? now, last: now, error: record?.error ?? null };
      await this.putAttemptRecord(key, record);
    }
    try {
      await this.untilNotTransient(options, [msg], run, () =>
        this.withProgress(options, [msg], () =>
          inSpan(
            `process ${msg.subject.slice(this.prefix.length + 1)}`,
            {
              kind: 'consumer',
              parent: extractTraceContext(msg.headers),
              attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': options.durable, 'messaging.message.id': envelope.id },
            },
            () => handler(envelope, this.contextOf(msg)),
          ),
        ),
      );
    } catch (error) {
      if (error instanceof StoppedDuringOutage) {
        msg.nak();
        return;
      }
      const started = uncounted + (record?.attempts ?? 0);
      if (record) {
        record = { ...record, last: new Date().toISOString(), error: (error as Error).message };
        await this.putAttemptRecord(key, record);
      }
      const retryable = !(error instanceof NonRetryableMessageError);
      if (retryable && started < maxDeliver) {
        const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
        const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)];
        this.log('warn', `${options.durable}: attempt ${started}/${maxDeliver} at ${msg.subject} #${msg.seq} failed, retrying in ${delay} ms: ${(error as Error).message}`);
        msg.nak(delay);
        return;
      }
      await this.deadLetter(options, msg, error as Error, deliveryCount, record);
      return;
    }
    if (record) await this.deleteAttemptRecord(key);
    try {
      await msg.ackAck();
    } catch (error) {
      // The work committed; a lost ack means a redelivery that the handler's inbox absorbs.
      this.log('warn', `${options.durable}: ack of ${msg.subject} #${msg.seq} not confirmed: ${(error as Error).message}`);
    }
  }

  private async handleBatch(options: ConsumerOptions, msgs: JsMsg[], handler: BatchMessageHandler, run: ConsumerRun): Promise<void> {
    // A crash takes the batches in hand with it, and far more often a whole process died (killed,
    // out of memory, a deploy) than a message killed it: the first redelivery is tried as a batch
    // once more, so recovery does not apply a thousand messages one transaction each (ADR 16). It
    // is not counted: a message that does kill the process is parked after at most one more crash.
    const batchedDeliveries = 2;
    const one = (msg: JsMsg) => this.handleMessage(options, msg, (envelope, context) => handler([{ envelope, context }]), run);
    // Messages redelivered again (after a failure, a crash or a hang) are taken one at a time, in
    // stream order, so that the one at fault is found and the others are applied.
    if (msgs.length === 1 || msgs.some((msg) => msg.info.redeliveryCount > batchedDeliveries)) {
      for (const msg of msgs) await one(msg);
      return;
    }
    const items: Array<{ msg: JsMsg; message: BatchMessage }> = [];
    for (const msg of msgs) {
      try {
        items.push({ msg, message: { envelope: this.decode(msg.data), context: this.contextOf(msg) } });
      } catch (error) {
        await this.deadLetter(options, msg, error as Error, msg.info.redeliveryCount);
      }
    }
    if (items.length === 0) return;
    try {
      await this.untilNotTransient(
        options,
        items.map((item) => item.msg),
        run,
        () =>
          this.withProgress(
            options,
            items.map((item) => item.msg),
            () =>
              inSpan(
                `process ${items.length} messages`,
                {
                  kind: 'consumer',
                  // A span has one parent: the first message's trace; the batch size is an attribute.
                  parent: extractTraceContext(items[0].msg.headers),
                  attributes: { 'messaging.system': 'nats', 'messaging.consumer.group.name': options.durable, 'messaging.batch.message_count': items.length },
                },
                () => handler(items.map((item) => item.message)),
              ),
          ),
      );
    } catch (error) {
      if (error instanceof StoppedDuringOutage) {
        for (const item of items) item.msg.nak();
        return;
      }
      this.log('warn', `${options.durable}: batch of ${items.length} failed (${(error as Error).message}); handling its messages one at a time`);
      for (const item of items) await one(item.msg);
      return;
    }
    // Plain acks, flushed once: a lost ack means a redelivery that the handler's inbox absorbs.
    for (const item of items) item.msg.ack();
    try {
      await this.connection.flush();
    } catch (error) {
      this.log('warn', `${options.durable}: acks of ${items.length} messages not flushed: ${(error as Error).message}`);
    }
  }

  /**
   * Runs `work` again, with backoff, for as long as it fails for a transient reason (the database
   * is unreachable or restarting): the messages stay in hand, unacked and kept alive, and no
   * attempt is counted against them, so an outage neither acks nor dead-letters anything and the
   * consumer resumes on its own when the database answers again (ADR 16). Other errors are thrown
   * to the caller's retry and DLQ policy; a stop during the outage throws StoppedDuringOutage.
   */
  private async untilNotTransient<T>(options: ConsumerOptions, msgs: JsMsg[], run: ConsumerRun, work: () => Promise<T>): Promise<T> {
    const isTransient = options.isTransient ?? isTransientDatabaseError;
    const backoff = options.transientBackoffMs ?? DEFAULT_TRANSIENT_BACKOFF_MS;
    const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    let since: number | undefined;
    let lastLog = 0;
    for (let failures = 0; ; failures += 1) {
      try {
        const result = await work();
        if (since !== undefined) this.log('log', `${options.durable}: resumed after ${Math.round(performance.now() - since)} ms of transient failures`);
        return result;
      } catch (error) {
        if (!isTransient(error)) throw error;
        if (run.stopped) throw new StoppedDuringOutage((error as Error).message);
        since ??= performance.now();
        const delay = backoff[Math.min(failures, backoff.length - 1)];
        // One line on the first failure and one every ten seconds, not one per retry.
        if (performance.now() - lastLog > 10000) {
          lastLog = performance.now();
          this.log('warn', `${options.durable}: ${msgs.length} message(s) wait for a transient failure to end (${(error as Error).message}); retrying with backoff, nothing acked`);
        }
        await this.pause(delay, msgs, ackWaitMs, run);
      }
    }
  }

  /** Waits `ms` (less if the consumer stops) while telling the server that `msgs` are still in hand. */
  private async pause(ms: number, msgs: JsMsg[], ackWaitMs: number, run: ConsumerRun): Promise<void> {
    for (const msg of msgs) msg.working();
    const step = Math.max(50, Math.min(ms, Math.floor(ackWaitMs / 3)));
    for (let waited = 0; waited < ms && !run.stopped; waited += step) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(step, ms - waited)));
      for (const msg of msgs) msg.working();
    }
  }

  /**
   * Runs `work` while telling the server every third of the ack wait that its messages are still
   * in progress, so a slow but healthy batch is not redelivered; after maxProcessingMs the work
   * counts as failed (a hung handler), and the messages are left to redelivery and the DLQ policy.
   */
  private async withProgress<T>(options: ConsumerOptions, msgs: JsMsg[], work: () => Promise<T>): Promise<T> {
    const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    // Not tied to a short ack wait alone: a busy database may slow a healthy batch for many seconds.
    const maxProcessingMs = options.maxProcessingMs ?? Math.max(4 * ackWaitMs, DEFAULT_MAX_PROCESSING_MS);
    const signal = setInterval(
      () => {
        for (const msg of msgs) msg.working();
      },
      Math.max(100, Math.floor(ackWaitMs / 3)),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`handler did not finish within ${maxProcessingMs} ms`)), maxProcessingMs);
    });
    try {
      return await Promise.race([work(), timedOut]);
    } finally {
      clearInterval(signal);
      clearTimeout(timer);
    }
  }

  /** The bucket that counts attempts at redelivered messages (`<prefix>_delivery_attempts`, entries expire after a week). */
  private attempts(): Promise<KV> {
    this.attemptsBucket ??= this.js.views.kv(`${this.prefix}_delivery_attempts`, { history: 1, ttl: 7 * 24 * 3600 * 1000, replicas: this.options.replicas ?? 1 }).catch((error: unknown) => {
      this.attemptsBucket = undefined;
      throw error;
    });
    return this.attemptsBucket;
  }

  private async attemptRecord(key: string): Promise<AttemptRecord | undefined> {
    const entry = await (await this.attempts()).get(key);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return entry.json<AttemptRecord>();
  }

  private async putAttemptRecord(key: string, record: AttemptRecord): Promise<void> {
    await (await this.attempts()).put(key, codec.encode(record));
  }

  private async deleteAttemptRecord(key: string): Promise<void> {
    try {
      await (await this.attempts()).purge(key);
    } catch (error) {
      // Harmless: the entry expires, and a message that succeeded is not delivered again.
      this.log('warn', `could not clear the attempts of ${key}: ${(error as Error).message}`);
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

  private decode(data: Uint8Array): Envelope {
    let value: unknown;
    try {
      value = codec.decode(data);
    } catch (error) {
      throw new NonRetryableMessageError(`message is not JSON: ${(error as Error).message}`);
    }
    if (!isEnvelope(value)) throw new NonRetryableMessageError('message is not an envelope { id, type, occurredAt, data }');
    return value;
  }

  private async deadLetter(options: ConsumerOptions, msg: JsMsg, error: Error, deliveryCount: number, record?: AttemptRecord): Promise<void> {
    const headers = createHeaders();
    const now = new Date().toISOString();
    headers.set(MESSAGE_HEADERS.error, error.message.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    headers.set(MESSAGE_HEADERS.originalSubject, msg.subject);
    headers.set(MESSAGE_HEADERS.originalStream, this.streamName(options.stream));
    headers.set(MESSAGE_HEADERS.deliveries, String(deliveryCount));
    headers.set(MESSAGE_HEADERS.consumer, options.durable);
    headers.set(MESSAGE_HEADERS.firstFailure, record?.first ?? now);
    headers.set(MESSAGE_HEADERS.lastFailure, record?.last ?? now);
    if (msg.headers) for (const key of ['traceparent', 'tracestate']) if (msg.headers.has(key)) headers.set(key, msg.headers.get(key));
    try {
      await this.js.publish(this.subject(SUBJECTS.deadLetter(STREAMS[options.stream].name, options.durable)), msg.data, {
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
    if (record) await this.deleteAttemptRecord(`${options.durable}.${msg.seq}`);
  }

  /** The durable consumers this client runs (the service's own). */
  consumerNames(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Dead letters of this client's consumers (or of `consumers`), oldest first, after DLQ sequence `after`. */
  async listDeadLetters(options: { consumers?: string[]; after?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    const consumers = options.consumers ?? this.consumerNames();
    const limit = options.limit ?? 100;
    if (consumers.length === 0) return [];
    const stream = this.streamName('DLQ');
    const out: DeadLetter[] = [];
    // Per consumer, the next message of its DLQ subjects after a sequence (the server's
    // next_by_subj look-up), then merged in stream order.
    for (const durable of new Set(consumers)) {
      let seq = (options.after ?? 0) + 1;
      for (let n = 0; n < limit; n += 1) {
        let stored;
        try {
          stored = await this.jsm.streams.getMessage(stream, { next_by_subj: this.subject(`DLQ.*.${durable}`), seq } as unknown as { seq: number });
        } catch (error) {
          if (/no message found|not found/i.test((error as Error).message)) break;
          throw error;
        }
        out.push(this.toDeadLetter(stored.seq, stored.subject, stored.header, stored.data, BigInt(stored.time.getTime()) * 1_000_000n));
        seq = stored.seq + 1;
      }
    }
    return out.sort((x, y) => x.seq - y.seq).slice(0, limit);
  }

  /** Dead letters per stream and consumer, from the DLQ stream's subject counts (the metric). */
  async deadLetterCounts(): Promise<Array<{ stream: string; consumer: string; count: number }>> {
    const info = await this.jsm.streams.info(this.streamName('DLQ'), { subjects_filter: this.subject('DLQ.>') });
    const subjects = (info.state.subjects ?? {}) as Record<string, number>;
    return Object.entries(subjects).map(([subject, count]) => {
      const [stream = '', ...rest] = subject.slice(this.subject('DLQ.').length).split('.');
      return { stream, consumer: rest.join('.'), count };
    });
  }

  /**
   * Runs a dead letter through its consumer's handler again (after a fix) and removes it from the
   * DLQ once the handler succeeded; the handler's inbox makes a second replay harmless.
   */
  async replayDeadLetter(seq: number): Promise<{ seq: number; replayed: boolean; error?: string }> {
    const stream = this.streamName('DLQ');
    const stored = await this.jsm.streams.getMessage(stream, { seq });
    const letter = this.toDeadLetter(seq, stored.subject, stored.header, stored.data, BigInt(stored.time.getTime()) * 1_000_000n);
    const registered = this.handlers.get(letter.consumer);
    if (!registered) throw new NonRetryableMessageError(`no consumer ${letter.consumer} in this service to replay dead letter ${seq} with`);
    try {
      const envelope = this.decode(stored.data);
      const context: MessageContext = {
        subject: letter.subject,
        deliveryCount: letter.deliveries + 1,
        streamSequence: 0,
        partitionKey: stored.header?.has(MESSAGE_HEADERS.partitionKey) ? stored.header.get(MESSAGE_HEADERS.partitionKey) : undefined,
      };
      await inSpan(
        `replay ${letter.subject.slice(this.prefix.length + 1)}`,
        { kind: 'consumer', parent: extractTraceContext(stored.header), attributes: { 'messaging.system': 'nats', 'messaging.consumer.group.name': letter.consumer } },
        () => registered.handler(envelope, context),
      );
    } catch (error) {
      return { seq, replayed: false, error: (error as Error).message };
    }
    await this.jsm.streams.deleteMessage(stream, seq, false);
    this.log('log', `${letter.consumer}: dead letter ${seq} (${letter.subject}) replayed and removed from the DLQ`);
    return { seq, replayed: true };
  }

  /**
   * Deletes one message of a stream (full name) and overwrites its bytes on disk, for erasure;
   * false when it was gone already (deleted, or aged out).
   */
  async deleteStreamMessage(stream: string, seq: number): Promise<boolean> {
    try {
      return await this.jsm.streams.deleteMessage(stream, seq, true);
    } catch (error) {
      if (/no message found|not found/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  /** The sequence of the oldest message a stream (full name) still holds: older ones aged out or were removed; undefined when the stream is gone. */
  async firstSequence(stream: string): Promise<number | undefined> {
    try {
      return (await this.jsm.streams.info(stream)).state.first_seq;
    } catch (error) {
      if (/not found/i.test((error as Error).message)) return undefined;
      throw error;
    }
  }

  /**
   * Sequences of the stream's messages whose data or headers contain any of `needles` (the DLQ at
   * an erasure: dead letters are few, and carry what failed whole).
   */
  async findInStream(stream: StreamKey, needles: string[]): Promise<StreamLocation[]> {
    // Case-insensitive: identifiers are stored normalised (emails in lower case), messages as sent.
    const wanted = [...new Set(needles.filter((needle) => needle.length > 0).flatMap((needle) => [needle.toLowerCase(), JSON.stringify(needle).slice(1, -1).toLowerCase()]))];
    if (wanted.length === 0) return [];
    const name = this.streamName(stream);
    const found: StreamLocation[] = [];
    const decoder = new TextDecoder();
    let seq = 1;
    for (;;) {
      let stored;
      try {
        stored = await this.jsm.streams.getMessage(name, { next_by_subj: '>', seq } as unknown as { seq: number });
      } catch (error) {
        if (/no message found|not found/i.test((error as Error).message)) break;
        throw error;
      }
      const text = (decoder.decode(stored.data) + (stored.header ? [...stored.header].map(([key, values]) => `${key}:${values.join(',')}`).join('\n') : '')).toLowerCase();
      if (wanted.some((needle) => text.includes(needle))) found.push({ stream: name, seq: stored.seq });
      seq = stored.seq + 1;
    }
    return found;
  }

  /** Removes a dead letter for good; false when there was none with that sequence. */
  async discardDeadLetter(seq: number): Promise<boolean> {
    try {
      return await this.jsm.streams.deleteMessage(this.streamName('DLQ'), seq, false);
    } catch (error) {
      if (/no message found|not found/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  private toDeadLetter(seq: number, subject: string, headers: MsgHdrs | undefined, data: Uint8Array, timestampNanos: number | bigint): DeadLetter {
    const header = (name: string) => (headers?.has(name) ? headers.get(name) : '');
    const [stream = '', ...rest] = subject.slice(this.subject('DLQ.').length).split('.');
    let envelopeId: string | null = null;
    try {
      const value = codec.decode(data);
      if (isEnvelope(value)) envelopeId = value.id;
    } catch {
      // Not JSON: the reason it was dead-lettered.
    }
    return {
      seq,
      stream,
      consumer: header(MESSAGE_HEADERS.consumer) || rest.join('.'),
      subject: header(MESSAGE_HEADERS.originalSubject),
      envelopeId,
      error: header(MESSAGE_HEADERS.error),
      deliveries: Number(header(MESSAGE_HEADERS.deliveries) || 0),
      firstFailureAt: header(MESSAGE_HEADERS.firstFailure) || null,
      lastFailureAt: header(MESSAGE_HEADERS.lastFailure) || null,
      deadLetteredAt: new Date(Number(BigInt(timestampNanos) / 1_000_000n)).toISOString(),
    };
  }

  private log(level: 'log' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}
