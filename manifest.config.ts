/**
 * The extension manifest, shared by the Chrome and Firefox builds (read by extension/wxt.config.ts).
 * WXT adds the entrypoints; this holds what a reviewer of the permissions needs to see.
 */
export const manifest = {
  name: 'Gatehouse',
  description: 'See and end your Gatehouse sessions from the toolbar.',
  permissions: ['storage', 'alarms'],
  browser_specific_settings: {
    gecko: {
      id: 'extension@gatehouse.dev',
      strict_min_version: '128.0',
      // Gatehouse collects nothing about the person beyond what they sign in with.
      data_collection_permissions: { required: ['none'] },
    },
  },
};
