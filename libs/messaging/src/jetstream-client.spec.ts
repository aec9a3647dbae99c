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
    expect(names.sort()).toEqual(
      ['DLQ', 'EVENTS', 'EXPERIMENTS', 'OFFERS', 'PROFILES', 'SEGMENTS'].map((s) => `${namespace.prefix}_${s}`),
    );
    const events = await jsm.streams.info(`${namespace.prefix}_EVENTS`);
    expect(events.config.subjects).toEqual([`${namespace.prefix}.events.>`]);
    expect(events.config.duplicate_window).toBeGreaterThan(0);
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
    const consumer = await client.consume(
      { stream: 'PROFILES', durable: 'ack-after-work', filterSubjects: ['profiles.updated'], ackWaitMs: 1000 },
      async (envelope: Envelope) => {
        seen.push(envelope.id);
        await gate;
      },
    );
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
    const consumer = await client.consume(
      { stream: 'PROFILES', durable: 'retry-then-ok', filterSubjects: ['profiles.merged'], maxDeliver: 5, backoffMs: [50, 100] },
      async (_envelope, ctx) => {
        deliveries.push(ctx);
        if (ctx.deliveryCount < 3) throw new Error(`transient failure ${ctx.deliveryCount}`);
      },
    );
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
    const consumer = await client.consume(
      { stream: 'PROFILES', durable: 'always-fails', filterSubjects: ['profiles.erased'], maxDeliver: 3, backoffMs: [20] },
      async () => {
        attempts += 1;
        throw new Error('database is on fire');
      },
    );
    const dlqStream = client.streamName('DLQ');
    const jsm = await raw.jetstreamManager();
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publish('profiles.erased', createEnvelope('profiles.erased', { profileId: 'p1' }, { id: 'poison-1' }));
    await eventually(async () => (await jsm.streams.info(dlqStream)).state.messages === before + 1, 'dead letter');
    expect(attempts).toBe(3);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.PROFILES` });
    expect(parked.header.get(MESSAGE_HEADERS.error)).toBe('database is on fire');
    expect(parked.header.get(MESSAGE_HEADERS.deliveries)).toBe('3');
    expect(parked.header.get(MESSAGE_HEADERS.originalSubject)).toBe(`${namespace.prefix}.profiles.erased`);
    expect((JSONCodec<Envelope>().decode(parked.data)).id).toBe('poison-1');
    await consumer.stop();
  });

  it('dead-letters invalid message data at once instead of retrying it', async () => {
    let attempts = 0;
    const consumer = await client.consume(
      { stream: 'SEGMENTS', durable: 'validates', filterSubjects: ['segments.entered'], maxDeliver: 5 },
      async (envelope) => {
        attempts += 1;
        parseMessageData(OrderPlaced, envelope.data);
      },
    );
    const jsm = await raw.jetstreamManager();
    const dlqStream = client.streamName('DLQ');
    const before = (await jsm.streams.info(dlqStream)).state.messages;
    await client.publish('segments.entered', createEnvelope('segments.entered', { orderId: 42 }, { id: 'invalid-1' }));
    await eventually(async () => (await jsm.streams.info(dlqStream)).state.messages === before + 1, 'dead letter');
    expect(attempts).toBe(1);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.SEGMENTS` });
    expect(parked.header.get(MESSAGE_HEADERS.error)).toMatch(/orderId: orderId must be a string.*amountMinor/);
    await consumer.stop();
  });

  it('dead-letters a message that is not an envelope', async () => {
    const handled: string[] = [];
    const consumer = await client.consume(
      { stream: 'OFFERS', durable: 'not-json', filterSubjects: ['offers.served'] },
      async (envelope) => {
        handled.push(envelope.id);
      },
    );
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
    const consumer = await client.consume(
      { stream: 'EXPERIMENTS', durable: 'traced', filterSubjects: ['experiments.exposed'] },
      async () => {
        received.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
      },
    );
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
    const consumer = await client.consumeBatch<{ n: number }>(
      { stream: 'OFFERS', durable: 'batch-order', filterSubjects: ['offers.served'], maxBatch: 50, ackWaitMs: 60000 },
      async (messages) => {
        batches.push(messages.map((m) => m.envelope.data.n));
        if (batches.length === 1) await gate; // the rest pile up behind the first batch
      },
    );
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
    await client.publishMany(Array.from({ length: 30 }, (_, i) => ({ subject: 'loyalty.points-changed', envelope: createEnvelope('loyalty.points-changed', { n: 31 + i }, { id: `interval-${31 + i}` }) })));
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
    await client.publishMany(
      Array.from({ length: 20 }, (_, i) => ({ subject: 'offers.redeemed', envelope: createEnvelope('offers.redeemed', { poison: i === 7 }, { id: `redeem-${i}` }) })),
    );
    await eventually(async () => applied.size === 19 && (await jsm.streams.info(dlqStream)).state.messages === before + 1, '19 applied and 1 parked');
    expect(applied.has('redeem-7')).toBe(false);
    const parked = await jsm.streams.getMessage(dlqStream, { last_by_subj: `${namespace.prefix}.DLQ.OFFERS` });
    expect(JSONCodec<Envelope>().decode(parked.data).id).toBe('redeem-7');
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
