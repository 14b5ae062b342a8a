import { defineConfig } from 'wxt';
import { manifest } from '../manifest.config.js';

export default defineConfig({
  manifest,
  vite: () => ({ resolve: { conditions: ['gatehouse-source'] } }),
});
