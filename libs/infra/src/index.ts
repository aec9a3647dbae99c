export * from './nats';
export * from './postgres';
export * from './process-utils';
export * from './service-process';
export * from './webhook-receiver';
