import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn real processes; generous bounds keep a loaded CI machine from flaking.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
