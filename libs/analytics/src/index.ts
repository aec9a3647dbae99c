export * from './rfm';
export * from './affinity';
export * from './lifecycle';
export * from './money';
