import { Inject, Injectable, Logger, Module, SetMetadata, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { StreamKey } from '@segmenta/contracts';
import { DATABASE, type Database } from '@segmenta/persistence';
import { Outbox, type OutboxOptions } from './outbox';
import { JetStreamClient, type BatchConsumerOptions, type BatchMessageHandler, type ConsumerHandle, type ConsumerOptions, type MessageHandler } from './jetstream-client';

export interface MessagingModuleOptions {
  url: string;
  prefix: string;
  /** The service name: connection name. */
  service: string;
  replicas?: number;
  /** Streams provisioned at start-up (default: all). */
  streams?: StreamKey[];
  /** How long a publish waits for the stream's acknowledgement. */
  publishTimeoutMs?: number;
  /** Defaults applied to every @JetStreamConsumer of the app (e.g. ackWaitMs from config). */
  consumerDefaults?: Partial<Pick<BatchConsumerOptions, 'ackWaitMs' | 'maxDeliver' | 'backoffMs' | 'batchSize' | 'minBatchIntervalMs'>>;
}

const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
const CONSUMER_METADATA = 'segmenta:jetstream-consumer';

/**
 * Marks a provider method as the handler of a durable JetStream pull consumer. The method gets
 * `(envelope, context)`; the message is acked after it resolves, retried when it throws.
 */
export const JetStreamConsumer = (options: ConsumerOptions) => SetMetadata(CONSUMER_METADATA, options);

/**
 * Marks a provider method as the handler of a durable pull consumer that receives the waiting
 * messages as one array (`BatchMessage[]`, up to `maxBatch`), to apply them in one transaction.
 */
export const JetStreamBatchConsumer = (options: BatchConsumerOptions) => SetMetadata(CONSUMER_METADATA, { ...options, batch: true });

@Injectable()
class JetStreamConsumerExplorer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('JetStream');
  private readonly handles: ConsumerHandle[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly client: JetStreamClient,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[methodName];
        if (typeof method !== 'function') continue;
        const consumer = this.reflector.get<(BatchConsumerOptions & { batch?: boolean }) | undefined>(CONSUMER_METADATA, method);
        if (!consumer) continue;
        if (consumer.batch) {
          const handler: BatchMessageHandler = (messages) => method.call(instance, messages);
          this.handles.push(await this.client.consumeBatch({ ...this.options.consumerDefaults, ...consumer }, handler));
        } else {
          const handler: MessageHandler = (envelope, context) => method.call(instance, envelope, context);
          this.handles.push(await this.client.consume({ ...this.options.consumerDefaults, ...consumer }, handler));
        }
        this.logger.log(`consuming ${consumer.stream} as ${consumer.durable}`);
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Finish the message in hand, then drain, before the database pool closes.
    await this.client.drain();
  }
}

@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: JetStreamClient,
          useFactory: async () => {
            const logger = new Logger('JetStream');
            const client = await JetStreamClient.connect({
              url: options.url,
              prefix: options.prefix,
              name: options.service,
              replicas: options.replicas,
              publishTimeoutMs: options.publishTimeoutMs,
              log: (level, message) => logger[level](message),
            });
            await client.provisionStreams(options.streams);
            return client;
          },
        },
        JetStreamConsumerExplorer,
      ],
      exports: [JetStreamClient],
    };
  }
}

export interface OutboxModuleOptions extends Omit<OutboxOptions, 'log'> {
  /** Whether this process runs a relay (default true); a replica that only writes may leave it to others. */
  relay?: boolean;
}

const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');

@Injectable()
class OutboxLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly outbox: Outbox,
    @Inject(OUTBOX_OPTIONS) private readonly options: OutboxModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.relay ?? true) this.outbox.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.outbox.stop();
  }
}

/** The service's transactional outbox and its relay (ADR 12); needs the DATABASE provider and MessagingModule. */
@Module({})
export class OutboxModule {
  static forService(options: OutboxModuleOptions): DynamicModule {
    return {
      module: OutboxModule,
      global: true,
      providers: [
        { provide: OUTBOX_OPTIONS, useValue: options },
        {
          provide: Outbox,
          inject: [DATABASE, JetStreamClient],
          useFactory: (database: Database<Record<string, unknown>>, client: JetStreamClient) => {
            const logger = new Logger('Outbox');
            return new Outbox(database, client, { ...options, log: (level, message) => logger[level](message) });
          },
        },
        OutboxLifecycle,
      ],
      exports: [Outbox],
    };
  }
}
