import { z } from 'zod';
import { emailSchema } from './schemas.js';

/** `POST /api/v1/admin/invitations` */
export const inviteSchema = z.strictObject({ email: emailSchema });

export const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  invitedBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  mailed: z.boolean(),
  acceptedBy: z.string().optional(),
});
export type InvitationAnswer = z.infer<typeof invitationSchema>;

/** The answer to an invitation: when the mail did not go out, `url` is the link to pass on. */
export const issuedInvitationSchema = z.object({ invitation: invitationSchema, sent: z.boolean(), url: z.string().optional() });
export const invitationListSchema = z.object({ invitations: z.array(invitationSchema) });

/** `POST /auth/invitation`: the token from the link's fragment. */
export const invitationTokenSchema = z.strictObject({ token: z.string().min(1).max(8192) });
/** What the invite page shows: whom the invitation is for and the ways in. */
export const openedInvitationSchema = z.object({
  email: z.string(),
  expiresAt: z.string(),
  providers: z.array(z.object({ id: z.string(), name: z.string(), loginUrl: z.string() })),
  passwordAllowed: z.boolean(),
});
/** `POST /auth/invitation/password`: a local account from an invitation (LOCAL_LOGIN=all). */
export const invitationPasswordSchema = z.strictObject({
  token: z.string().min(1).max(8192),
  name: z.string().trim().min(1).max(100),
  password: z.string().max(4096),
});

/** `PATCH /api/v1/me`: only the fields present change; `{}` changes nothing. */
export const profilePatchSchema = z.strictObject({
  name: z.string().trim().min(1, 'Enter a name.').max(100, 'At most 100 characters.').optional(),
  email: emailSchema.optional(),
});
export const profileAnswerSchema = z.object({
  name: z.string(),
  email: z.string().nullable(),
  emailEditable: z.boolean(),
  /** A new address waiting for its confirmation link. */
  pendingEmail: z.string().optional(),
});
/** `POST /auth/email/confirm`: the token from the confirmation link's fragment. */
export const emailConfirmSchema = z.strictObject({ token: z.string().min(1).max(8192) });
