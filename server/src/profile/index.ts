/** A person's own profile: display name, and the email of a local account (docs/profile.md). */
export { profileRoutes } from './routes.js';
export { ProfileService } from './service.js';
