import { defineConfig } from 'wxt';
import { manifestFor } from '../manifest.config.js';

/** `GATEHOUSE_EXT_TEST=1` (or `npm run build:test`) builds the e2e variant into `.output-test/`. */
const test = process.env.GATEHOUSE_EXT_TEST === '1';

export default defineConfig({
  modules: ['@wxt-dev/webextension-polyfill'],
  // Explicit imports everywhere: a reader sees where `browser` and `storage` come from.
  imports: false,
  outDir: test ? '.output-test' : '.output',
  zip: {
    name: 'gatehouse',
    // The sources zip (for addons.mozilla.org review) must build on its own: the extension,
    // shared/ and the root manifest and workspace files, nothing of the server.
    sourcesRoot: '..',
    excludeSources: ['server/**', 'e2e/**', 'bench/**', 'scripts/**', 'docs/**', '**/.output*/**', '**/.wxt/**', '.stack/**'],
  },
  manifest: ({ browser }) => manifestFor({ test, browser }),
  vite: () => ({ resolve: { conditions: ['gatehouse-source'] } }),
});
