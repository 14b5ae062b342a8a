/** Local passwords and TOTP two-factor (docs/local-accounts.md). */
export { LoginBackoff } from './limits.js';
export { checkPassword, hashPassword, verifyPassword } from './passwords.js';
export { localAuthRoutes } from './routes.js';
export { LocalAuthService } from './service.js';
export { SecretSealer } from './totp.js';
