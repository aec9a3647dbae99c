export * from './start-telemetry';
export * from './trace-context';
export * from './logger';
export * from './request-logging';
