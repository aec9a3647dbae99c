export * from './database';
export * from './migrations';
export * from './transaction';
export * from './persistence.module';
export * from './testing/test-database';
export * from './sql-helpers';
export * from './pglite-template';
export * from './call-rounds';
