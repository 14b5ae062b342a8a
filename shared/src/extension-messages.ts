import { z } from 'zod';
import { activityEntrySchema, sessionViewSchema, userStatusSchema } from './schemas.js';

/**
 * The messages between the extension's own pages (popup, options) and its background. Every
 * message crosses a trust boundary (`runtime.onMessage` hears anything the browser routes to
 * it), so the background parses each one with `extensionRequestSchema` and answers with an
 * `ExtensionResponse`; the pages parse the answers back with the matching schema.
 */

/** What a page may ask the background to do. */
export const extensionRequestSchema = z.discriminatedUnion('type', [
  /** The popup's state: which screen to show and what it needs. */
  z.strictObject({ type: z.literal('state.get') }),
  /** Store a backend (already validated and permitted by the options page) after checking its metadata. */
  z.strictObject({ type: z.literal('backend.set'), url: z.string().max(2048) }),
  /** Forget the backend, the key and every token; revoke the refresh token if possible. */
  z.strictObject({ type: z.literal('backend.disconnect') }),
  z.strictObject({ type: z.literal('pairing.start') }),
  z.strictObject({ type: z.literal('pairing.cancel') }),
  /** The account and its sessions, fetched fresh. */
  z.strictObject({ type: z.literal('account.get') }),
  z.strictObject({ type: z.literal('session.revoke'), sessionId: z.string().min(1).max(200) }),
  z.strictObject({ type: z.literal('sessions.revokeOthers') }),
]);
export type ExtensionRequest = z.infer<typeof extensionRequestSchema>;
export type ExtensionRequestType = ExtensionRequest['type'];

/** A failure as the pages show it: a stable code to branch on and a sentence for a person. */
export const extensionFailureSchema = z.object({
  ok: z.literal(false),
  code: z.string(),
  message: z.string(),
});
export type ExtensionFailure = z.infer<typeof extensionFailureSchema>;

export const popupStateNameSchema = z.enum(['not-configured', 'not-paired', 'pairing', 'paired']);
export type PopupStateName = z.infer<typeof popupStateNameSchema>;

/** A pairing in progress, as the popup shows it (never the device code). */
export const pairingViewSchema = z.object({
  userCode: z.string(),
  phrase: z.string(),
  verificationUri: z.string(),
  verificationUriComplete: z.string(),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
});
export type PairingView = z.infer<typeof pairingViewSchema>;

export const noticeSchema = z.object({ code: z.string(), message: z.string() });
export type Notice = z.infer<typeof noticeSchema>;

export const popupStateSchema = z.object({
  state: popupStateNameSchema,
  backend: z.string().nullable(),
  pairing: pairingViewSchema.nullable(),
  notice: noticeSchema.nullable(),
});
export type PopupState = z.infer<typeof popupStateSchema>;

export const accountViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  roles: z.array(z.string()),
  status: userStatusSchema,
});
export type AccountView = z.infer<typeof accountViewSchema>;

export const accountWithSessionsSchema = z.object({
  account: accountViewSchema,
  sessions: z.array(sessionViewSchema),
  /** The person's recent security activity, newest first (empty when the grant lacks activity:read). */
  activity: z.array(activityEntrySchema).default([]),
});
export type AccountWithSessions = z.infer<typeof accountWithSessionsSchema>;

/** The success payload for each request type. */
export const extensionResultSchemas = {
  'state.get': popupStateSchema,
  'backend.set': z.object({ backend: z.string() }),
  'backend.disconnect': z.object({}),
  'pairing.start': pairingViewSchema,
  'pairing.cancel': z.object({}),
  'account.get': accountWithSessionsSchema,
  'session.revoke': z.object({}),
  'sessions.revokeOthers': z.object({ revoked: z.number().int().min(0) }),
} satisfies Record<ExtensionRequestType, z.ZodType>;

export type ExtensionResult<T extends ExtensionRequestType> = z.infer<(typeof extensionResultSchemas)[T]>;

export type ExtensionResponse<T extends ExtensionRequestType = ExtensionRequestType> =
  | { ok: true; result: ExtensionResult<T> }
  | ExtensionFailure;

/** Parses the background's answer to a request of type `type`. */
export function parseExtensionResponse<T extends ExtensionRequestType>(type: T, value: unknown): ExtensionResponse<T> {
  const failure = extensionFailureSchema.safeParse(value);
  if (failure.success) return failure.data;
  const envelope = z.object({ ok: z.literal(true), result: z.unknown() }).safeParse(value);
  const result = envelope.success ? extensionResultSchemas[type].safeParse(envelope.data.result) : null;
  if (!result?.success) {
    return {
      ok: false,
      code: 'BAD_RESPONSE',
      message: 'The extension gave an answer it does not understand. Reload the extension and try again.',
    };
  }
  return { ok: true, result: result.data as ExtensionResult<T> };
}
