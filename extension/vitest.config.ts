import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

/** Unit tests of extension/src with WXT's fake browser APIs and an in-memory IndexedDB. */
export default defineConfig({
  plugins: [WxtVitest({ root: fileURLToPath(new URL('.', import.meta.url)) })],
  resolve: { conditions: ['gatehouse-source'] },
  ssr: { resolve: { conditions: ['gatehouse-source'] } },
  test: {
    name: 'extension',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['src/**/*.test.ts'],
    setupFiles: ['fake-indexeddb/auto'],
  },
});
