import { describe, expect, it } from 'vitest';
import { scoringKernelFromAddon } from '../../src/native/scoring-kernel.js';
import { node, resource } from './fixtures.js';

const untouchable = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('the addon was called');
    },
    has: () => true,
  },
);

describe('native scoring kernel wrapper', () => {
  it('is absent without an addon or without its scheduling functions', () => {
    expect(scoringKernelFromAddon(undefined)).toBeUndefined();
    expect(scoringKernelFromAddon({ abiVersion: 1, schedulingNodeImbalance: () => 0 })).toBeUndefined();
  });

  it('rejects invalid input with the TypeScript kernel texts before calling the addon', () => {
    const kernel = scoringKernelFromAddon(untouchable);
    expect(kernel?.implementation).toBe('native');
    const broken = [node('n', 0, 4, 0.5, 8)];
    expect(() => kernel?.nodeImbalance(broken)).toThrow(new Error("node 'n': mem must be a non-negative integer, got 0.5"));
    expect(() => kernel?.scoreNodesToStartResource([node('n', 0, 4, 0, 8)], resource(0, 1, 0, -2))).toThrow(
      new Error('resource: maxmem must be a non-negative integer, got -2'),
    );
    expect(() => kernel?.scoreBestBalancingMigrations([], [], -1)).toThrow(
      new Error('limit must be a non-negative integer, got -1'),
    );
  });
});
