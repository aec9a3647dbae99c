import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { IsInt, IsString } from 'class-validator';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { MESSAGE_HEADERS, type Envelope } from '@segmenta/contracts';
import { startPrivateNats } from '@segmenta/infra';
import { createEnvelope } from './envelope';
import { NonRetryableMessageError } from './errors';
import { DEFAULT_STREAM_RETENTION } from './stream-retention';
import { JetStreamClient, type MessageContext } from './jetstream-client';
import { parseMessageData } from './parse-message';
import { createTestNamespace } from './testing/test-prefix';

const natsUrl = process.env.NATS_URL as string;
const namespace = createTestNamespace(natsUrl, 'msg');
const spans = new InMemorySpanExporter();
let client: JetStreamClient;
let raw: NatsConnection;

/** Polls until `check` holds; fails after `timeoutMs` with `what`. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

class OrderPlaced {
  @IsString() orderId!: string;
  @IsInt() amountMinor!: number;
}

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  client = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'messaging-spec' });
  await client.provisionStreams();
  raw = await connect({ servers: natsUrl });
});

afterAll(async () => {
  await client.drain();
  await raw.close();
  await namespace.cleanup();
  trace.disable();
  propagation.disable();
  context.disable();
});

describe('JetStreamClient', () => {
  it('provisions every stream under the prefix, and doing it again changes nothing', async () => {
    await client.provisionStreams();
    const jsm = await raw.jetstreamManager();
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${namespace.prefix}_`)) names.push(name);
    expect(names.sort()).toEqual(['DLQ', 'EVENTS', 'EXPERIMENTS', 'OFFERS', 'PROFILES', 'SEGMENTS'].map((s) => `${namespace.prefix}_${s}`));
    const events = await jsm.streams.info(`${namespace.prefix}_EVENTS`);
    expect(events.config.subjects).toEqual([`${namespace.prefix}.events.>`]);
    expect(events.config.duplicate_window).toBeGreaterThan(0);
    // Nothing is kept forever: every stream has an age and a size limit (the defaults here).
    for (const name of names) {
      const { config } = await jsm.streams.info(name);
      const key = name.slice(namespace.prefix.length + 1) as keyof typeof DEFAULT_STREAM_RETENTION;
      expect({ name, maxAge: config.max_age, maxBytes: config.max_bytes }).toEqual({
        name,
        maxAge: DEFAULT_STREAM_RETENTION[key].maxAgeMs * 1_000_000,
        maxBytes: DEFAULT_STREAM_RETENTION[key].maxBytes,
      });
    }
  });

  it('applies a changed retention to existing streams', async () => {
    const configured = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'retention-spec', retention: { EVENTS: { maxAgeMs: 3_600_000, maxBytes: 10_000_000 } } });
    try {
      await configured.provisionStreams(['EVENTS']);
      const jsm = await raw.jetstreamManager();
      const { config } = await jsm.streams.info(`${namespace.prefix}_EVENTS`);
      expect({ maxAge: config.max_age, maxBytes: config.max_bytes }).toEqual({ maxAge: 3_600_000 * 1_000_000, maxBytes: 10_000_000 });
    } finally {
      await configured.drain();
    }
    // Back to the defaults for the tests after.
    await client.provisionStreams(['EVENTS']);
  });

  it('stores a message published twice with the same id once (Nats-Msg-Id)', async () => {
    const envelope = createEnvelope('track', { n: 1 }, { id: 'dedupe-1' });
    const first = await client.publish('events.track', envelope);
    const second = await client.publish('events.track', envelope);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
  });

  it('acks a message only after the handler resolved and never redelivers it afterwards', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const consumer = await client.consume({ stream: 'PROFILES', durable: 'ack-after-work', filterSubjects: ['profiles.updated'], ackWaitMs: 1000 }, async (envelope: Envelope) => {
      seen.push(envelope.id);
      await gate;
    });
    await client.publish('profiles.updated', createEnvelope('profiles.updated', {}, { id: 'slow-1' }));
    await eventually(() => seen.length >= 1, 'first delivery');
    const jsm = await raw.jetstreamManager();
    // While the handler is still working the message is pending, not acknowledged.
    expect((await jsm.consumers.info(client.streamName('PROFILES'), 'ack-after-work')).num_ack_pending).toBe(1);
    release();
    await eventually(async () => (await jsm.consumers.info(client.streamName('PROFILES'), 'ack-after-work')).num_ack_pending === 0, 'ack');
    const info = await jsm.consumers.info(client.streamName('PROFILES'), 'ack-after-work');
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
    await consumer.stop();
    expect(seen).toEqual(['slow-1']);
    expect(info.num_redelivered).toBe(0);
  });

  it('retries a failing handler with backoff and succeeds on a later delivery', async () => {
    const deliveries: MessageContext[] = [];
    const consumer = await client.consume({ stream: 'PROFILES', durable: 'retry-then-ok', filterSubjects: ['profiles.merged'], maxDeliver: 5, backoffMs: [50, 100] }, async (_envelope, ctx) => {
      deliveries.push(ctx);
      if (ctx.deliveryCount < 3) throw new Error(`transient failure ${ctx.deliveryCount}`);
    });
    await client.publish('profiles.merged', createEnvelope('profiles.merged', {}, { id: 'flaky-1' }), { partitionKey: 'user-7' });
    await eventually(() => deliveries.length === 3, 'third delivery');
    const jsm = await raw.jetstreamManager();
    await eventually(async () => (await jsm.consumers.info(client.streamName('PROFILES'), 'retry-then-ok')).num_ack_pending === 0, 'ack after success');
    expect(deliveries.map((d) => d.deliveryCount)).toEqual([1, 2, 3]);
    expect(deliveries[0].partitionKey).toBe('user-7');
    await consumer.stop();
  });

  it('moves a message to DLQ.<stream> with the error after maxDeliver failed deliveries', async () => {
    let attempts = 0;
    const consumer = await client.consume({ stream: 'PROFILES', durable: 'always-fails', filterSubjects: ['profiles.erased'], maxDeliver: 3, backoffMs: [20] }, async () => {
      attempts += 1;
      throw new Error('database is on fire');
    });
    const dlqStream = client.streamName('DLQ');
    const jsm = await raw.jetstreamManager();
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publish('profiles.erased', createEnvelope('profiles.erased', { profileId: 'p1' }, { id: 'poison-1' }));
    await eventually(async () => (await jsm.streams.info(dlqStream)).state.messages === before + 1, 'dead letter');
    expect(attempts).toBe(3);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.PROFILES.always-fails` });
    expect(parked.header.get(MESSAGE_HEADERS.error)).toBe('database is on fire');
    expect(parked.header.get(MESSAGE_HEADERS.deliveries)).toBe('3');
    expect(parked.header.get(MESSAGE_HEADERS.originalSubject)).toBe(`${namespace.prefix}.profiles.erased`);
    expect(JSONCodec<Envelope>().decode(parked.data).id).toBe('poison-1');
    await consumer.stop();
  });

  it('dead-letters invalid message data at once instead of retrying it', async () => {
    let attempts = 0;
    const consumer = await client.consume({ stream: 'SEGMENTS', durable: 'validates', filterSubjects: ['segments.entered'], maxDeliver: 5 }, async (envelope) => {
      attempts += 1;
      parseMessageData(OrderPlaced, envelope.data);
    });
    const jsm = await raw.jetstreamManager();
    const dlqStream = client.streamName('DLQ');
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publish('segments.entered', createEnvelope('segments.entered', { orderId: 42 }, { id: 'invalid-1' }));
    await eventually(async () => (await jsm.streams.info(dlqStream)).state.messages === before + 1, 'dead letter');
    expect(attempts).toBe(1);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.SEGMENTS.validates` });
    expect(parked.header.get(MESSAGE_HEADERS.error)).toMatch(/orderId: orderId must be a string.*amountMinor/);
    await consumer.stop();
  });

  it('dead-letters a message that is not an envelope', async () => {
    const handled: string[] = [];
    const consumer = await client.consume({ stream: 'OFFERS', durable: 'not-json', filterSubjects: ['offers.served'] }, async (envelope) => {
      handled.push(envelope.id);
    });
    const jsm = await raw.jetstreamManager();
    const dlqStream = client.streamName('DLQ');
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    const js = raw.jetstream();
    await js.publish(`${namespace.prefix}.offers.served`, new TextEncoder().encode('{not json'));
    await js.publish(`${namespace.prefix}.offers.served`, JSONCodec().encode({ hello: 'world' }));
    await eventually(async () => (await jsm.streams.info(dlqStream)).state.messages === before + 2, 'two dead letters');
    expect(handled).toEqual([]);
    await consumer.stop();
  });

  it('links the consumer span to the publisher span through the message headers', async () => {
    spans.reset();
    const received: string[] = [];
    const consumer = await client.consume({ stream: 'EXPERIMENTS', durable: 'traced', filterSubjects: ['experiments.exposed'] }, async () => {
      received.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
    });
    const traceId = await trace.getTracer('test').startActiveSpan('http request', async (root) => {
      await client.publish('experiments.exposed', createEnvelope('experiments.exposed', {}, { id: 'traced-1' }));
      root.end();
      return root.spanContext().traceId;
    });
    await eventually(() => received.length === 1, 'traced delivery');
    await consumer.stop();
    const publish = spans.getFinishedSpans().find((s) => s.name === 'publish experiments.exposed');
    const process = spans.getFinishedSpans().find((s) => s.name === 'process experiments.exposed');
    expect(publish?.spanContext().traceId).toBe(traceId);
    expect(process?.spanContext().traceId).toBe(traceId);
    expect(process?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    expect(received[0]).toBe(traceId);
  });

  it('lets two replicas of one durable consumer split the work without processing a message twice', async () => {
    const other = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'replica-2' });
    const byReplica: Record<string, string[]> = { a: [], b: [] };
    const handler = (replica: 'a' | 'b') => async (envelope: Envelope) => {
      byReplica[replica].push(envelope.id);
    };
    const options = { stream: 'EXPERIMENTS' as const, durable: 'shared-work', filterSubjects: ['experiments.results'], batchSize: 4 };
    const a = await client.consume(options, handler('a'));
    const b = await other.consume(options, handler('b'));
    const ids = Array.from({ length: 200 }, (_, i) => `work-${i}`);
    await Promise.all(ids.map((id) => client.publish('experiments.results', createEnvelope('experiments.results', {}, { id }))));
    await eventually(() => byReplica.a.length + byReplica.b.length >= ids.length, 'all work done');
    await a.stop();
    await b.stop();
    await other.drain();
    const all = [...byReplica.a, ...byReplica.b];
    expect(new Set(all).size).toBe(ids.length);
    expect(all.length).toBe(ids.length);
    expect(byReplica.a.length).toBeGreaterThan(0);
    expect(byReplica.b.length).toBeGreaterThan(0);
  });
});

describe('parseMessageData', () => {
  it('returns a typed instance for valid data and a non-retryable error naming each bad field', () => {
    expect(parseMessageData(OrderPlaced, { orderId: 'o1', amountMinor: 1999 })).toBeInstanceOf(OrderPlaced);
    expect(() => parseMessageData(OrderPlaced, { orderId: 'o1', amountMinor: 'lots' })).toThrow(NonRetryableMessageError);
    expect(() => parseMessageData(OrderPlaced, { orderId: 'o1', amountMinor: 'lots' })).toThrow(/amountMinor/);
    expect(() => parseMessageData(OrderPlaced, null)).toThrow(/must be an object/);
  });
});

describe('consumeBatch', () => {
  it('hands a batch consumer the waiting messages in stream order and acks them all after it resolved', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const consumer = await client.consumeBatch<{ n: number }>({ stream: 'OFFERS', durable: 'batch-order', filterSubjects: ['offers.served'], maxBatch: 50, ackWaitMs: 60000 }, async (messages) => {
      batches.push(messages.map((m) => m.envelope.data.n));
      if (batches.length === 1) await gate; // the rest pile up behind the first batch
    });
    await client.publish('offers.served', createEnvelope('offers.served', { n: 0 }, { id: 'batch-0' }));
    await eventually(() => batches.length === 1, 'first batch');
    await client.publishMany(Array.from({ length: 120 }, (_, i) => ({ subject: 'offers.served', envelope: createEnvelope('offers.served', { n: i + 1 }, { id: `batch-${i + 1}` }) })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await eventually(() => batches.flat().length === 121, 'all 121 messages');
    expect(batches.flat()).toEqual(Array.from({ length: 121 }, (_, i) => i));
    expect(Math.max(...batches.map((b) => b.length))).toBe(50);
    expect(batches.length).toBeLessThanOrEqual(5);
    await eventually(async () => (await (await raw.jetstreamManager()).consumers.info(client.streamName('OFFERS'), 'batch-order')).num_ack_pending === 0, 'acks');
    await consumer.stop();
  });

  it('with concurrency 2 hands a second batch over while the first is still in hand, and acks both', async () => {
    let inHand = 0;
    let mostInHand = 0;
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const consumer = await client.consumeBatch<{ n: number }>(
      { stream: 'OFFERS', durable: 'batch-concurrent', filterSubjects: ['journeys.delivered'], maxBatch: 10, concurrency: 2, ackWaitMs: 60000 },
      async (messages) => {
        inHand += 1;
        mostInHand = Math.max(mostInHand, inHand);
        seen.push(...messages.map((m) => m.envelope.data.n));
        await gate;
        inHand -= 1;
      },
    );
    await client.publishMany(Array.from({ length: 40 }, (_, i) => ({ subject: 'journeys.delivered', envelope: createEnvelope('journeys.delivered', { n: i }, { id: `concurrent-${i}` }) })));
    await eventually(() => inHand === 2, 'two batches in hand');
    release();
    await eventually(() => seen.length === 40, 'all 40 messages');
    expect(mostInHand).toBe(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await eventually(async () => (await (await raw.jetstreamManager()).consumers.info(client.streamName('OFFERS'), 'batch-concurrent')).num_ack_pending === 0, 'acks');
    await consumer.stop();
  });

  it('with minBatchIntervalMs takes a message at once when idle, then starts batches no closer than the interval unless a full one waits', async () => {
    const starts: number[] = [];
    const sizes: number[] = [];
    const seen: number[] = [];
    const interval = 400;
    const consumer = await client.consumeBatch<{ n: number }>(
      { stream: 'OFFERS', durable: 'batch-interval', filterSubjects: ['loyalty.points-changed'], maxBatch: 10, minBatchIntervalMs: interval, ackWaitMs: 60000 },
      async (messages) => {
        starts.push(performance.now());
        sizes.push(messages.length);
        seen.push(...messages.map((m) => m.envelope.data.n));
      },
    );
    const publish = (n: number) => client.publish('loyalty.points-changed', createEnvelope('loyalty.points-changed', { n }, { id: `interval-${n}` }));
    const sent = performance.now();
    await publish(0);
    await eventually(() => seen.length === 1, 'the first message');
    expect(starts[0] - sent).toBeLessThan(interval);
    // A trickle: one message every 40 ms for 1.2 s lands in a few batches, each started at least the interval after the one before.
    for (let n = 1; n <= 30; n += 1) {
      await publish(n);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await eventually(() => seen.length === 31, 'the trickle');
    for (let i = 1; i < starts.length; i += 1) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(interval - 5); // timers round to whole milliseconds
    expect(starts.length).toBeLessThanOrEqual(6);
    // A full batch is not held back.
    const burstFrom = starts.length;
    await new Promise((resolve) => setTimeout(resolve, interval));
    await client.publishMany(
      Array.from({ length: 30 }, (_, i) => ({ subject: 'loyalty.points-changed', envelope: createEnvelope('loyalty.points-changed', { n: 31 + i }, { id: `interval-${31 + i}` }) })),
    );
    await eventually(() => seen.length === 61, 'the burst');
    // The burst's tail (less than a batch) may wait its turn, but a full batch waiting goes at once.
    const fullWithoutWaiting = starts.slice(burstFrom).filter((at, i) => sizes[burstFrom + i] === 10 && i > 0 && at - starts[burstFrom + i - 1] < interval / 2);
    expect(fullWithoutWaiting.length).toBeGreaterThanOrEqual(1);
    expect(seen).toEqual(Array.from({ length: 61 }, (_, i) => i));
    await eventually(async () => (await (await raw.jetstreamManager()).consumers.info(client.streamName('OFFERS'), 'batch-interval')).num_ack_pending === 0, 'acks');
    await consumer.stop();
  });

  it('retries the messages of a failed batch one by one, so only the bad one reaches the DLQ', async () => {
    const applied = new Set<string>();
    const consumer = await client.consumeBatch<{ poison?: boolean }>(
      { stream: 'OFFERS', durable: 'batch-poison', filterSubjects: ['offers.redeemed'], maxDeliver: 2, backoffMs: [20] },
      async (messages) => {
        if (messages.some((m) => m.envelope.data.poison)) throw new Error('cannot apply a poisoned message');
        for (const m of messages) applied.add(m.envelope.id);
      },
    );
    const dlqStream = client.streamName('DLQ');
    const jsm = await raw.jetstreamManager();
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publishMany(Array.from({ length: 20 }, (_, i) => ({ subject: 'offers.redeemed', envelope: createEnvelope('offers.redeemed', { poison: i === 7 }, { id: `redeem-${i}` }) })));
    await eventually(async () => applied.size === 19 && (await jsm.streams.info(dlqStream)).state.messages === before + 1, '19 applied and 1 parked');
    expect(applied.has('redeem-7')).toBe(false);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.OFFERS.batch-poison` });
    expect(JSONCodec<Envelope>().decode(parked.data).id).toBe('redeem-7');
    await consumer.stop();
  });
});

describe('an outage of the database behind a consumer', () => {
  // What node-postgres throws while PostgreSQL restarts (the error classes isTransientDatabaseError knows).
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  it('holds the messages (in hand and buffered) without acking or dead-lettering them, however long past maxDeliver × backoff and ackWait, and applies each once when it ends', async () => {
    let down = true;
    let failures = 0;
    const applied = new Map<string, number[]>();
    const consumer = await client.consumeBatch(
      { stream: 'OFFERS', durable: 'db-outage', filterSubjects: ['loyalty.outage'], maxDeliver: 2, backoffMs: [20], ackWaitMs: 600, maxBatch: 10 },
      async (messages) => {
        if (down) {
          failures += 1;
          throw refused();
        }
        for (const m of messages) applied.set(m.envelope.id, [...(applied.get(m.envelope.id) ?? []), m.context.deliveryCount]);
      },
    );
    const dlqStream = client.streamName('DLQ');
    const jsm = await raw.jetstreamManager();
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publishMany(Array.from({ length: 30 }, (_, i) => ({ subject: 'loyalty.outage', envelope: createEnvelope('loyalty.outage', { i }, { id: `points-${i}` }) })));
    // Four times the ack wait, many times maxDeliver × backoff.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(failures).toBeGreaterThan(2);
    expect(applied.size).toBe(0);
    down = false;
    await eventually(async () => applied.size === 30 && (await jsm.consumers.info(client.streamName('OFFERS'), 'db-outage')).num_ack_pending === 0, 'all 30 applied and acked', 15000);
    expect((await jsm.streams.info(dlqStream)).state.messages).toBe(before);
    // Each applied once, from its first delivery: nothing was redelivered meanwhile.
    expect([...applied.values()].every((deliveries) => deliveries.length === 1 && deliveries[0] === 1)).toBe(true);
    await consumer.stop();
  });

  it('does not count an outage against a redelivered message: one that failed maxDeliver - 1 times before is applied after the outage, not parked', async () => {
    let calls = 0;
    let down = false;
    const applied: string[] = [];
    const consumer = await client.consume({ stream: 'OFFERS', durable: 'db-outage-single', filterSubjects: ['loyalty.outage_single'], maxDeliver: 3, backoffMs: [20] }, async (envelope) => {
      calls += 1;
      // Two real failures, then the database goes away for a while.
      if (calls <= 2) {
        if (calls === 2) down = true;
        throw new Error(`bad luck ${calls}`);
      }
      if (down) throw refused();
      applied.push(envelope.id);
    });
    await client.publish('loyalty.outage_single', createEnvelope('loyalty.outage_single', {}, { id: 'tier-1' }));
    await eventually(() => calls >= 6, 'retries during the outage');
    down = false;
    await eventually(() => applied.length === 1, 'the message applied after the outage');
    const jsm = await raw.jetstreamManager();
    const dlq = await jsm.streams.info(client.streamName('DLQ'), { subjects_filter: `${namespace.prefix}.DLQ.OFFERS.db-outage-single` });
    expect(dlq.state.subjects?.[`${namespace.prefix}.DLQ.OFFERS.db-outage-single`] ?? 0).toBe(0);
    await consumer.stop();
  });

  it('stops a consumer that waits for the database within the shutdown, and the next replica applies its messages', async () => {
    let calls = 0;
    const options = { stream: 'OFFERS' as const, durable: 'db-outage-stop', filterSubjects: ['journeys.outage'], ackWaitMs: 2000 };
    const consumer = await client.consumeBatch(options, async () => {
      calls += 1;
      throw refused();
    });
    await client.publish('journeys.outage', createEnvelope('journeys.outage', {}, { id: 'journey-1' }));
    await eventually(() => calls >= 2, 'retries during the outage');
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    const applied: string[] = [];
    const next = await client.consumeBatch(options, async (messages) => {
      for (const m of messages) applied.push(m.envelope.id);
    });
    await eventually(() => applied.length === 1, 'the message at the next replica', 10000);
    expect(applied).toEqual(['journey-1']);
    await next.stop();
  });
});

describe('dead letters', () => {
  it('keeps a slow but healthy handler alive past the ack wait with progress signals: delivered once', async () => {
    const deliveries: number[] = [];
    const consumer = await client.consume({ stream: 'OFFERS', durable: 'slow-but-fine', filterSubjects: ['journeys.slow'], ackWaitMs: 600 }, async (_envelope, ctx) => {
      deliveries.push(ctx.deliveryCount);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    });
    await client.publish('journeys.slow', createEnvelope('journeys.slow', {}, { id: 'slow-1' }));
    const jsm = await raw.jetstreamManager();
    await eventually(async () => deliveries.length === 1 && (await jsm.consumers.info(client.streamName('OFFERS'), 'slow-but-fine')).num_ack_pending === 0, 'the slow message acked');
    expect(deliveries).toEqual([1]);
    await consumer.stop();
  });

  it('counts a handler that hangs as failed after maxProcessingMs, dead-letters it after maxDeliver attempts and applies the messages behind it', async () => {
    const applied: string[] = [];
    let hung = 0;
    const consumer = await client.consumeBatch<{ hang?: boolean }>(
      { stream: 'OFFERS', durable: 'hangs', filterSubjects: ['offers.budget_alert'], maxDeliver: 2, ackWaitMs: 2000, maxProcessingMs: 300, backoffMs: [20] },
      async (messages) => {
        if (messages.some((m) => m.envelope.data.hang)) {
          hung += 1;
          await new Promise(() => undefined);
        }
        applied.push(...messages.map((m) => m.envelope.id));
      },
    );
    await client.publishMany(['a', 'hang', 'b'].map((id) => ({ subject: 'offers.budget_alert', envelope: createEnvelope('offers.budget_alert', { hang: id === 'hang' }, { id: `hang-test-${id}` }) })));
    const letters = async () => client.listDeadLetters({ consumers: ['hangs'] });
    await eventually(async () => (await letters()).length === 1 && applied.length === 2, 'the hung message parked, the others applied', 15000);
    expect(applied.sort()).toEqual(['hang-test-a', 'hang-test-b']);
    const [letter] = await letters();
    expect(letter).toMatchObject({ stream: 'OFFERS', consumer: 'hangs', subject: `${namespace.prefix}.offers.budget_alert`, envelopeId: 'hang-test-hang', deliveries: 2 });
    expect(letter.error).toMatch(/did not finish within 300 ms/);
    expect(hung).toBeGreaterThanOrEqual(2);
    await consumer.stop();
  });

  it('lists dead letters with their error and failure times, replays one after the fix exactly once and discards another', async () => {
    let fixed = false;
    const applied: string[] = [];
    const consumer = await client.consume<{ n: number }>({ stream: 'EXPERIMENTS', durable: 'fix-me', filterSubjects: ['experiments.fixed'], maxDeliver: 2, backoffMs: [20] }, async (envelope) => {
      if (!fixed) throw new Error(`bug in release 1 (n=${envelope.data.n})`);
      applied.push(envelope.id);
    });
    await client.publishMany([1, 2].map((n) => ({ subject: 'experiments.fixed', envelope: createEnvelope('experiments.fixed', { n }, { id: `exposed-${n}` }) })));
    await eventually(async () => (await client.listDeadLetters({ consumers: ['fix-me'] })).length === 2, 'two dead letters');
    const letters = await client.listDeadLetters({ consumers: ['fix-me'] });
    expect(letters.map((l) => l.envelopeId)).toEqual(['exposed-1', 'exposed-2']);
    expect(letters[0].error).toBe('bug in release 1 (n=1)');
    expect(Date.parse(letters[0].firstFailureAt as string)).toBeLessThanOrEqual(Date.parse(letters[0].lastFailureAt as string));
    expect((await client.deadLetterCounts()).find((c) => c.consumer === 'fix-me')).toEqual({ stream: 'EXPERIMENTS', consumer: 'fix-me', count: 2 });
    // Paging: after the first one's sequence comes the second.
    expect((await client.listDeadLetters({ consumers: ['fix-me'], after: letters[0].seq })).map((l) => l.envelopeId)).toEqual(['exposed-2']);

    expect(await client.replayDeadLetter(letters[0].seq)).toEqual({ seq: letters[0].seq, replayed: false, error: 'bug in release 1 (n=1)' });
    fixed = true;
    expect(await client.replayDeadLetter(letters[0].seq)).toEqual({ seq: letters[0].seq, replayed: true });
    await expect(client.replayDeadLetter(letters[0].seq)).rejects.toThrow();
    expect(await client.discardDeadLetter(letters[1].seq)).toBe(true);
    expect(await client.discardDeadLetter(letters[1].seq)).toBe(false);
    expect(applied).toEqual(['exposed-1']);
    expect(await client.listDeadLetters({ consumers: ['fix-me'] })).toEqual([]);
    await consumer.stop();
  });
});

describe('consumer provisioning', () => {
  it('applies a changed filter to an existing durable consumer, including removing it', async () => {
    const client = await JetStreamClient.connect({ url: natsUrl, prefix: namespace.prefix, name: 'filters' });
    const jsm = await raw.jetstreamManager();
    const stream = client.streamName('SEGMENTS');
    const first = await client.consume({ stream: 'SEGMENTS', durable: 'refiltered', filterSubjects: ['segments.kpis'] }, async () => undefined);
    await first.stop();
    expect((await jsm.consumers.info(stream, 'refiltered')).config.filter_subject).toBe(`${namespace.prefix}.segments.kpis`);
    const second = await client.consume({ stream: 'SEGMENTS', durable: 'refiltered' }, async () => undefined);
    await second.stop();
    expect((await jsm.consumers.info(stream, 'refiltered')).config.filter_subject ?? '').toBe('');
    await client.drain();
  });
});

describe('publishMany', () => {
  it('stores every message once, reports duplicates, and carries one trace context', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({
      subject: 'segments.changed',
      envelope: createEnvelope('segments.changed', { n: i }, { id: `many-${i}` }),
      partitionKey: `p-${i % 7}`,
    }));
    const acks = await client.publishMany(items);
    expect(acks).toHaveLength(300);
    expect(acks.every((ack) => ack.duplicate !== true)).toBe(true);
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(300);
    const again = await client.publishMany(items.slice(0, 10));
    expect(again.every((ack) => ack.duplicate === true)).toBe(true);

    const jsm = await raw.jetstreamManager();
    const stored = await jsm.streams.getMessage(client.streamName('SEGMENTS'), { seq: acks[5].seq });
    expect(stored.header.get('Nats-Msg-Id')).toBe('many-5');
    expect(stored.header.get(MESSAGE_HEADERS.partitionKey)).toBe('p-5');
  });

  it('rejects, naming how many were not acknowledged, when the server is gone', async () => {
    const privateNats = await startPrivateNats();
    const isolated = await JetStreamClient.connect({ url: privateNats.url, prefix: 'gone', publishTimeoutMs: 500 });
    try {
      await isolated.provisionStreams(['EVENTS']);
      await expect(isolated.publishMany([{ subject: 'events.track', envelope: createEnvelope('track', {}, { id: 'ok-1' }) }])).resolves.toHaveLength(1);
      await privateNats.stop();
      await expect(
        isolated.publishMany([
          { subject: 'events.track', envelope: createEnvelope('track', {}, { id: 'lost-1' }) },
          { subject: 'events.track', envelope: createEnvelope('track', {}, { id: 'lost-2' }) },
        ]),
      ).rejects.toThrow('JetStream did not acknowledge 2 of 2 messages');
    } finally {
      await isolated.close();
      await privateNats.stop();
    }
  });
});
