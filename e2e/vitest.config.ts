import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['gatehouse-source'] },
  test: {
    name: 'e2e',
    globalSetup: ['./support/global-setup.ts'],
    include: ['**/*.e2e.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
