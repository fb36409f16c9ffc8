import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `attnc` and `attnc/runtime` (imported by generated modules) resolve to src/, as in tsc.
  ssr: { resolve: { conditions: ['attnc-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
