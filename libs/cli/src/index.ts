export * from './command-line';
export * from './progress-bar';
