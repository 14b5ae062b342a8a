/** Local passwords and TOTP two-factor (docs/local-accounts.md). */
export { LoginBackoff } from './limits.js';
export { localAuthPageRoutes } from './page-routes.js';
export { PasswordForm } from './pages.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { PasswordResets } from './reset.js';
export { localAuthRoutes } from './routes.js';
export { LocalAuthService } from './service.js';
export { SecretSealer } from './totp.js';
