import { defineConfig } from 'vitest/config';

/** One `vitest run` at the root runs every workspace's suite. */
export default defineConfig({
  test: { projects: ['shared', 'server', 'extension', 'e2e'] },
});
