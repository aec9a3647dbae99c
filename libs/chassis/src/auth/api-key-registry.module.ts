import { Global, Module, type DynamicModule } from '@nestjs/common';
import { JetStreamClient, KeyValueBucket } from '@segmenta/messaging';
import type { BaseServiceConfig } from '../config';
import { API_KEYS_BUCKET, ApiKeyRegistry, apiKeysBucketName } from './api-key-registry';
import { ScopeGuard } from './require-scope';

/** Every service: the watched key registry and the ScopeGuard that reads it. */
@Global()
@Module({})
export class ApiKeyRegistryModule {
  static forConfig(config: BaseServiceConfig): DynamicModule {
    return {
      module: ApiKeyRegistryModule,
      providers: [
        {
          provide: API_KEYS_BUCKET,
          inject: [JetStreamClient],
          useFactory: (client: JetStreamClient) =>
            KeyValueBucket.open(client.connection, apiKeysBucketName(config.NATS_PREFIX), { replicas: config.NATS_STREAM_REPLICAS, description: 'Segmenta API keys (hashed)' }),
        },
        ApiKeyRegistry,
        ScopeGuard,
      ],
      exports: [API_KEYS_BUCKET, ApiKeyRegistry, ScopeGuard],
    };
  }
}
