/**
 * The extension manifest, shared by the Chrome and Firefox builds (read by extension/wxt.config.ts).
 * WXT adds the entrypoints; this holds what a reviewer of the permissions needs to see.
 */

/** The local backends a development or test build may talk to without asking. */
export const LOCAL_HOST_PATTERNS = ['http://localhost/*', 'http://127.0.0.1/*'];
/** The e2e deployment's https name (e2e/support/production.ts), held by the test build only. */
const TEST_HOST_PATTERNS = [...LOCAL_HOST_PATTERNS, 'https://gatehouse.test/*'];

export const manifest = {
  name: 'Gatehouse',
  description: 'See and end your Gatehouse sessions from the toolbar.',
  // storage: the refresh token, the backend URL and short-lived state; alarms: polling and
  // token refresh that survive the service worker being stopped.
  permissions: ['storage', 'alarms'],
  // No site access at install: the options page asks for exactly the backend's host when the
  // person saves it. https anywhere (the backend can live on any host), plain http only locally.
  optional_host_permissions: ['https://*/*', ...LOCAL_HOST_PATTERNS],
  browser_specific_settings: {
    gecko: {
      id: 'extension@gatehouse.dev',
      strict_min_version: '128.0',
      // Gatehouse collects nothing about the person beyond what they sign in with.
      data_collection_permissions: { required: ['none'] },
    },
  },
};

/**
 * The manifest for one build. Chrome gets no `browser_specific_settings` (it would warn about
 * an unknown key). The test build (GATEHOUSE_EXT_TEST=1) also holds the local hosts at install,
 * because `permissions.request()` never resolves in headless Chromium. Never ship it.
 */
export function manifestFor(options: { test: boolean; browser: string }) {
  const { browser_specific_settings, ...common } = manifest;
  return {
    ...common,
    ...(options.browser === 'firefox' ? { browser_specific_settings } : {}),
    ...(options.test ? { name: 'Gatehouse (test build)', host_permissions: TEST_HOST_PATTERNS } : {}),
  };
}
