/**
 * Every action the audit log records, named `<noun>.<verb>`. The server refuses to write an
 * action that is not in this list, so the list is the complete catalogue of audited events.
 */
export const AUDIT_ACTIONS = [
  'login.succeeded',
  'login.failed',
  'login.refused',
  'logout.completed',
  'session.revoked',
  'session.revoked_all',
  'pairing.started',
  'pairing.confirmed',
  'pairing.declined',
  'pairing.completed',
  'pairing.revoked',
  'token.exchange_failed',
  'api_token.created',
  'api_token.revoked',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.banned',
  'user.unbanned',
  'user.deleted',
  'role.changed',
  'key.rotated',
  'key.pruned',
  'key.imported',
  'setup.completed',
  'setup.failed',
  'rate_limit.tripped',
  'backchannel_logout.received',
  'security_event.received',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['success', 'failure', 'refused'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** How each action reads in a person's own "recent security activity" (account page, popup). */
export const ACTIVITY_LABELS: Record<AuditAction, string> = {
  'login.succeeded': 'Signed in',
  'login.failed': 'Sign-in failed',
  'login.refused': 'Sign-in refused',
  'logout.completed': 'Signed out',
  'session.revoked': 'Session ended',
  'session.revoked_all': 'Signed out everywhere',
  'pairing.started': 'Pairing started',
  'pairing.confirmed': 'Device pairing approved',
  'pairing.declined': 'Device pairing declined',
  'pairing.completed': 'Device paired',
  'pairing.revoked': 'Paired device disconnected',
  'token.exchange_failed': 'A paired device was refused',
  'api_token.created': 'API token created',
  'api_token.revoked': 'API token revoked',
  'user.created': 'Account created',
  'user.updated': 'Account updated',
  'user.disabled': 'Account disabled by an administrator',
  'user.enabled': 'Account enabled by an administrator',
  'user.banned': 'Account banned by an administrator',
  'user.unbanned': 'Account unbanned by an administrator',
  'user.deleted': 'Account deleted',
  'role.changed': 'Roles changed',
  'key.rotated': 'Signing key rotated',
  'key.pruned': 'Signing keys pruned',
  'key.imported': 'Signing key imported',
  'setup.completed': 'Gatehouse set up',
  'setup.failed': 'Setup failed',
  'rate_limit.tripped': 'Too many attempts',
  'backchannel_logout.received': 'Signed out by your identity provider',
  'security_event.received': 'Security event from your identity provider',
};
