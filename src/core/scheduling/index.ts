export * from './stats.js';
export * from './topsis.js';
export * from './kernel.js';
export * from './cluster-usage.js';
export * from './packed.js';
export { compareCodePoints, totalCompare } from './ordering.js';
export { formatFloat } from './float-text.js';
