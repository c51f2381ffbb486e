import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // The default output, then the reasons of every skip (test/prerequisites.ts).
    reporters: ['default', './test/skip-reporter.ts'],
  },
});
