export * from './nats';
export * from './postgres';
export * from './process-utils';
