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
