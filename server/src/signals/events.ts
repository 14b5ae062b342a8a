/** What Gatehouse does about a security event once its subject is known. */
export type SignalAction = 'end_sessions' | 'disable' | 'revoke_all';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

/**
 * The CAEP and RISC events Gatehouse acts on. A session-revoked event ends the subject's browser
 * sessions (paired extensions and API tokens are the person's own and stay, as with
 * back-channel logout); an account that the identity provider disabled or purged is disabled
 * here (never deleted: an admin decides that); a revocation of every session or a credential
 * change revokes everything, the way "sign out everywhere" does.
 */
export const SIGNAL_ACTIONS: Readonly<Record<string, SignalAction>> = {
  [`${CAEP}session-revoked`]: 'end_sessions',
  [`${RISC}account-disabled`]: 'disable',
  [`${RISC}account-purged`]: 'disable',
  [`${RISC}sessions-revoked`]: 'revoke_all',
  [`${CAEP}credential-change`]: 'revoke_all',
};

/**
 * The last path segment of an event type URI, restricted to a safe alphabet: what the audit log
 * records (`session-revoked`, `account-disabled`, or the tail of an event we don't know).
 */
export function eventShortName(eventType: string): string {
  const tail = eventType.split(/[/#]/).filter(Boolean).pop() ?? '';
  return tail.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'unnamed';
}
