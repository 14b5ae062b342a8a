/** Local passwords and TOTP two-factor (docs/local-accounts.md). */
export { LoginBackoff } from './limits.js';
export { localAuthPageRoutes, PENDING_COOKIE } from './page-routes.js';
export { PasswordForm } from './pages.js';
export { checkPassword, hashPassword, verifyPassword } from './passwords.js';
export { PasswordResets, RESET_LINK_SECONDS, type ResetLinkSender } from './reset.js';
export { localAuthRoutes } from './routes.js';
export { LocalAuthService } from './service.js';
export { SecretSealer } from './totp.js';
