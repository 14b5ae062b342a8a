import { z } from 'zod';

/**
 * Bodies of password sign-in, two-factor and password changes. Passwords are bounded well
 * above PASSWORD_MAX_LENGTH's ceiling; the server's policy decides the real limits.
 */
const password = z.string().max(4096);
const code = z.string().min(1).max(32);

export const passwordSignInSchema = z.strictObject({
  email: z.string().min(1).max(320),
  password,
  return_to: z.string().max(2048).optional(),
});
export const totpStepSchema = z.strictObject({ pending: z.string().min(1).max(100), code });
export const pendingStepSchema = z.strictObject({ pending: z.string().min(1).max(100) });
export const setPasswordSchema = z.strictObject({ password });
export const changePasswordSchema = z.strictObject({ currentPassword: password, newPassword: password });
export const totpChangeSchema = z.strictObject({ password, code });
export const passwordResetSchema = z.strictObject({ token: z.string().min(1).max(8192), password });

export const localAuthStatusSchema = z.object({ password: z.boolean(), totp: z.boolean(), recoveryCodesLeft: z.number() });
export const totpOfferSchema = z.object({ secret: z.string(), uri: z.string(), qrSvg: z.string() });
export const recoveryCodesSchema = z.object({ recoveryCodes: z.array(z.string()) });
export const resetLinkSchema = z.object({ sent: z.boolean(), url: z.string().optional(), expiresAt: z.string() });
