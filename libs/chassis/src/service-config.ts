import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { BaseServiceConfig } from './config';

/** Injection token of the service's validated configuration (its own class extends BaseServiceConfig). */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

@Global()
@Module({})
export class ServiceConfigModule {
  static forConfig(config: BaseServiceConfig): DynamicModule {
    return { module: ServiceConfigModule, providers: [{ provide: SERVICE_CONFIG, useValue: config }], exports: [SERVICE_CONFIG] };
  }
}
