import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Tests spawn real processes; generous bounds keep a loaded CI machine from flaking. The
    // integration waits scale with the load (test/integration/support.ts `budget`, up to 4 x 20 s):
    // a test's own bound must leave room for that.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // fast-check from a fixed seed (FC_SEED=random explores): test/setup/fast-check.ts
    setupFiles: ['test/setup/fast-check.ts'],
  },
});
