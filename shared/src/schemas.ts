import { z } from 'zod';
import { canonicalizeEmail } from './email.js';
import { ERROR_CODES, type ErrorCode } from './errors.js';
import { SCOPES, type Scope } from './scopes.js';

/** An email address in canonical form; see canonicalizeEmail. */
export const emailSchema = z
  .string()
  .max(320)
  .transform((value, ctx) => {
    const canonical = canonicalizeEmail(value);
    if (!canonical) {
      ctx.addIssue({ code: 'custom', message: 'Not a valid email address.' });
      return z.NEVER;
    }
    return canonical;
  });

/** A provider id as used in OIDC_PROVIDERS and in /auth/<id>/… paths. */
export const providerIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'Provider ids are lowercase letters, digits, - and _.');

/** Opaque identifiers we hand out (sessions, users): url-safe, bounded. */
export const opaqueIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'Not a valid id.');

/** `POST /api/v1/setup`: the account to make the owner. */
export const setupBodySchema = z.strictObject({
  email: emailSchema,
  name: z.string().trim().min(1).max(100).optional(),
});
export type SetupBody = z.infer<typeof setupBodySchema>;

/** `GET /auth/<provider>/login` */
export const loginQuerySchema = z.strictObject({
  return_to: z.string().max(512).optional(),
});

/**
 * `GET /auth/<provider>/callback`: what the provider may send back. Parameters we don't know
 * are ignored (providers add their own, e.g. session_state), but every value must be a single
 * bounded string: arrays and objects are refused before anything reads them.
 */
export const callbackQuerySchema = z.looseObject({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(2048).optional(),
  iss: z.string().min(1).max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
});

export const userStatusSchema = z.enum(['active', 'disabled', 'banned']);
export type UserStatus = z.infer<typeof userStatusSchema>;
export const roleSchema = z.enum(['user', 'admin', 'owner']);
export type Role = z.infer<typeof roleSchema>;
export const sessionKindSchema = z.enum(['browser', 'extension', 'api']);
export type SessionKind = z.infer<typeof sessionKindSchema>;
/** What people read for each session kind: account page, admin console and extension popup. */
export const SESSION_KIND_LABELS: Record<SessionKind, string> = { browser: 'Browser', extension: 'Paired extension', api: 'API token' };

/** A session as its own user sees it (account page, extension popup, API). */
export const sessionViewSchema = z.object({
  id: z.string(),
  kind: sessionKindSchema,
  /** "Chrome 156 on Linux", the API token's name, or the paired device's label. */
  device: z.string(),
  scopes: z.array(z.string()).optional(),
  expiresAt: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  ip: z.string().nullable(),
  current: z.boolean(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;

/** Problem details (RFC 9457) as Gatehouse sends them. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export function problemFor(code: ErrorCode, requestId?: string): Problem {
  const { status, message } = ERROR_CODES[code];
  return {
    type: `https://gatehouse.dev/errors/${code.toLowerCase().replaceAll('_', '-')}`,
    title: message,
    status,
    code,
    ...(requestId ? { requestId } : {}),
  };
}

/** `GET /api/v1/me/sessions` */
export const sessionListQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const sessionListSchema = z.object({ sessions: z.array(sessionViewSchema), next: z.string().nullable() });
export type SessionList = z.infer<typeof sessionListSchema>;

/** An `{id}` path parameter (sessions, users). */
export const idParamsSchema = z.strictObject({ id: opaqueIdSchema });

/** `POST /api/v1/me/api-tokens` */
export const createApiTokenSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .regex(/^[^\u0000-\u001F\u007F]+$/, 'No control characters.'),
  scopes: z
    .array(z.enum(Object.keys(SCOPES) as [Scope, ...Scope[]]))
    .min(1)
    .max(10),
  expiresInDays: z.number().int().min(1).max(3650),
});
export type CreateApiToken = z.infer<typeof createApiTokenSchema>;
export const createdApiTokenSchema = z.object({ id: z.string(), token: z.string(), expiresAt: z.string(), scopes: z.array(z.string()) });

/** OAuth token introspection (RFC 7662) and revocation (RFC 7009) requests, form-encoded. */
export const tokenRequestSchema = z.strictObject({
  token: z.string().min(1).max(8192),
  token_type_hint: z.string().max(64).optional(),
  client_id: z.string().max(128).optional(),
});

/** `GET /api/v1/admin/users` */
export const adminUserQuerySchema = z.strictObject({
  q: z.string().trim().max(100).optional(),
  status: userStatusSchema.optional(),
  role: roleSchema.optional(),
  cursor: z.string().max(200).optional(),
  /** The page before this cursor (the `prev` of an answer). */
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type AdminUserQuery = z.infer<typeof adminUserQuerySchema>;

/** A user as an admin sees it. */
export const adminUserViewSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  name: z.string(),
  status: userStatusSchema,
  roles: z.array(roleSchema),
  createdAt: z.string(),
  lastSignInAt: z.string().nullable(),
});
export type AdminUserView = z.infer<typeof adminUserViewSchema>;

/** One entry of a person's own recent security activity (`GET /api/v1/me/activity`). */
export const activityEntrySchema = z.object({
  time: z.string(),
  action: z.string(),
  outcome: z.string(),
  /** A plain-words description (ACTIVITY_LABELS). */
  description: z.string(),
  /** The address the request came from, when it was recorded under this person's key. */
  ip: z.string().nullable(),
  device: z.string().nullable(),
});
export const activityListSchema = z.object({ activity: z.array(activityEntrySchema) });
export type ActivityEntry = z.infer<typeof activityEntrySchema>;
export const activityQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });

/** `POST /api/v1/admin/users/{id}/roles` (owners only): grant or take away the admin role. */
export const roleChangeSchema = z.strictObject({ admin: z.boolean() });
export type RoleChange = z.infer<typeof roleChangeSchema>;

/** Answers of the admin and sign-out-everywhere endpoints. */
export const revokedCountSchema = z.object({ revoked: z.number().int() });
export const adminUserListSchema = z.object({
  users: z.array(adminUserViewSchema),
  next: z.string().nullable(),
  /** The cursor of the page before, or null on the first page. */
  prev: z.string().nullable(),
});
export const userStatusAnswerSchema = z.object({ id: z.string(), status: userStatusSchema });
export const userRolesAnswerSchema = z.object({ id: z.string(), roles: z.array(roleSchema) });
