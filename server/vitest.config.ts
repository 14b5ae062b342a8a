import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['gatehouse-source'] },
  ssr: { resolve: { conditions: ['gatehouse-source'] } },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  test: {
    name: 'server',
    globalSetup: ['./test/global-setup.ts'],
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: integration suites share one real stack, run them with bounded parallelism.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
