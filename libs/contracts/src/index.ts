export * from './platform/services';
export * from './platform/streams';
export * from './platform/envelope';
export * from './platform/api-error';
export * from './ingestion/segment-message';
export * from './profiles/profile-events';
export * from './segments/segment-events';
export * from './platform/compiled-validation';
