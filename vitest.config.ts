import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `attnc` and `attnc/runtime` (imported by generated modules) resolve to src/, as in tsc;
  // every other package resolves as before.
  ssr: { resolve: { conditions: ['attnc-source', ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
