/** First-run setup: naming the owner with the bootstrap password. */
export { setupRoutes } from './routes.js';
export { SetupService } from './service.js';
