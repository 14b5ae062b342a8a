import { AUDIT_ACTIONS, AUDIT_OUTCOMES, roleSchema, userStatusSchema } from '@gatehouse/shared';
import { z } from 'zod';

/**
 * The console's queries and form bodies. They live beside the console rather than in shared/
 * because only these server-rendered pages send them; the values they carry reuse the shared
 * enums. HTML forms send empty fields as "", so blanks mean "not given".
 */
const blank = <S extends z.ZodType>(schema: S) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/** Every action an admin starts from a user's page; each goes through a confirmation page. */
export const USER_ACTIONS = ['disable', 'enable', 'ban', 'unban', 'revoke-all', 'grant-admin', 'revoke-admin'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];
export const KEY_ACTIONS = ['rotate', 'prune'] as const;

// Missing becomes "", which the CSRF check then refuses with its own code (not a validation error).
const csrfField = z.string().max(200).default('');
const limitField = z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(1).max(100).default(50));

/** `GET /admin`: the users search form. */
export const consoleUserQuerySchema = z.strictObject({
  q: blank(z.string().trim().max(100)),
  status: blank(userStatusSchema),
  role: blank(roleSchema),
  cursor: blank(z.string().max(200)),
  before: blank(z.string().max(200)),
  limit: limitField,
});

/** `GET /admin/users/{id}`: the banner to show after an action (post/redirect/get). */
export const consoleUserPageQuerySchema = z.strictObject({ done: blank(z.enum([...USER_ACTIONS, 'impersonation-stopped'])) });

/** `POST /admin/users/{id}/impersonate`: a support view needs a reason (docs/impersonation.md). */
export const consoleImpersonateBodySchema = z.strictObject({
  csrf: csrfField,
  reason: z.string().trim().min(3, 'Say why (at least 3 characters).').max(200, 'At most 200 characters.'),
  minutes: z.coerce.number().int().min(1).max(15).default(15),
});

/** `GET /admin/users/{id}/confirm?action=…` */
export const consoleActionQuerySchema = z.strictObject({ action: z.enum(USER_ACTIONS) });

/** `POST /admin/users/{id}/actions`: the confirmed action. */
export const consoleActionBodySchema = z.strictObject({ csrf: csrfField, action: z.enum(USER_ACTIONS) });

/**
 * A day (`2026-11-23`, UTC) or an ISO date-time with a zone. A day as `until` means the end of
 * that day, so "since 1 Nov until 30 Nov" covers all of November.
 */
const dayOrTime = (edge: 'start' | 'end') =>
  z
    .string()
    .max(40)
    .regex(
      /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/,
      'Use a date like 2026-11-23 or an ISO time with a zone.',
    )
    .transform((value, ctx) => {
      const day = value.length === 10;
      const at = new Date(day ? `${value}T00:00:00Z` : value);
      if (Number.isNaN(at.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'Not a valid date.' });
        return z.NEVER;
      }
      return day && edge === 'end' ? new Date(at.getTime() + 86_400_000) : at;
    });

/** `GET /admin/audit`: exact filters, a time window and the page. */
export const consoleAuditQuerySchema = z.strictObject({
  action: blank(z.enum(AUDIT_ACTIONS)),
  outcome: blank(z.enum(AUDIT_OUTCOMES)),
  actor: blank(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'Actors look like user:<id>, cli or system.'),
  ),
  target: blank(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'Targets look like user:<id> or key:<kid>.'),
  ),
  since: blank(dayOrTime('start')),
  until: blank(dayOrTime('end')),
  cursor: blank(z.string().max(200)),
  /** Newer entries: the page just before this cursor. */
  before: blank(z.string().max(200)),
  limit: limitField,
});

/** `GET /admin/audit/export?format=jsonl|csv&since=…`: without since, everything. */
export const consoleExportQuerySchema = z.strictObject({
  format: z.enum(['jsonl', 'csv']),
  since: blank(dayOrTime('start')),
});

/** `GET /admin/keys` (banner) and `GET /admin/keys/confirm?action=…` */
export const consoleKeysPageQuerySchema = z.strictObject({ done: blank(z.enum(['rotated', 'pruned', 'nothing-to-prune'])) });
export const consoleKeyActionQuerySchema = z.strictObject({ action: z.enum(KEY_ACTIONS) });

/** `POST /admin/keys`: the confirmed rotation or prune. */
export const consoleKeyActionBodySchema = z.strictObject({ csrf: csrfField, action: z.enum(KEY_ACTIONS) });

/** `/admin/invitations` forms. */
export const consoleInviteBodySchema = z.strictObject({ csrf: csrfField, email: z.string().max(320) });
export const consoleCsrfBodySchema = z.strictObject({ csrf: csrfField });
export const consoleInvitationsQuerySchema = z.strictObject({ done: z.enum(['withdrawn', 'sent']).optional() });
