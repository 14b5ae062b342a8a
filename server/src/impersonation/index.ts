/** Support access: an admin's read-only, time-limited view as another person (docs/impersonation.md). */
export { impersonationBanner, impersonationRoutes } from './routes.js';
export { ImpersonationService } from './service.js';
