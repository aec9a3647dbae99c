export * from './config';
export * from './api-errors';
export * from './health.module';
export * from './create-service';
export * from './run-service';
export * from './platform-modules';
export * from './testing/service-under-test';
export * from './admin.guard';
