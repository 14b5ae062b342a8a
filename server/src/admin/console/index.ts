/** The server-rendered admin console: users, a user's page with confirmed actions, the audit trail, the keyring. */
export { adminConsoleRoutes } from './routes.js';
