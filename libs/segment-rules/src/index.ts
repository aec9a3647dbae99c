export * from './definition';
export * from './duration';
export * from './validate';
export * from './values';
export * from './evaluate';
export * from './sql';
export * from './dependencies';
export * from './property-filter';
