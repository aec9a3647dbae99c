export * from './errors';
export * from './parse-message';
export * from './jetstream-client';
export * from './messaging.module';
export * from './rpc';
export * from './envelope';
export * from './testing/test-prefix';
