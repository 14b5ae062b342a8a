import { ACTIVITY_LABELS, type AuditAction } from '@gatehouse/shared';

/** What an admin did to another person's account, as "You <verb> <name>'s account". */
const DONE_TO_ANOTHER: Partial<Record<AuditAction, string>> = {
  'user.disabled': 'disabled',
  'user.enabled': 'enabled',
  'user.banned': 'banned',
  'user.unbanned': 'unbanned',
  'user.deleted': 'deleted',
  'user.updated': 'updated',
  'role.changed': 'changed the roles of',
  'session.revoked_all': 'signed out everywhere',
  'password.reset': 'reset the password of',
  'impersonation.started': 'viewed (support access)',
  'impersonation.ended': 'stopped viewing (support access)',
};

const OUTCOME_WORDS = { failure: 'failed', refused: 'refused' } as const;

export interface DescribedEntry {
  action: AuditAction;
  outcome: 'success' | 'failure' | 'refused';
  actor: string;
  target?: string | null | undefined;
  details?: { reason?: unknown; device?: unknown; kind?: unknown } | undefined;
}

/**
 * One activity entry in words, from the reader's point of view (docs/audit.md, "Recent
 * activity"): what happened to what, and who did it. `names` maps user ids to display names.
 */
export function describeForReader(entry: DescribedEntry, readerId: string, names: ReadonlyMap<string, string>): string {
  const me = `user:${readerId}`;
  const otherId = (party: string | null | undefined) => (party?.startsWith('user:') && party !== me ? party.slice(5) : null);
  const outcome = entry.outcome === 'success' ? '' : outcomeSuffix(ACTIVITY_LABELS[entry.action], entry.outcome);
  const targetOther = otherId(entry.target);
  const actorOther = otherId(entry.actor);

  // The reader acted on someone else's account (an admin's own feed).
  if (entry.actor === me && targetOther) {
    const whom = names.get(targetOther);
    const verb = DONE_TO_ANOTHER[entry.action];
    const account = whom ? `${whom}’s account` : 'an account that no longer exists';
    return `${verb ? `You ${verb} ${account}` : `${ACTIVITY_LABELS[entry.action]}: ${account}`}${outcome}`;
  }
  let text = ACTIVITY_LABELS[entry.action];
  // Someone else acted on the reader's account: name them where the label says "an administrator".
  if (actorOther && names.has(actorOther)) text = text.replace('an administrator', names.get(actorOther) as string);
  if (entry.action === 'impersonation.started' && entry.outcome === 'success' && typeof entry.details?.reason === 'string') {
    text += `: “${entry.details.reason}”`;
  }
  // Which session ended, not only which device ended it (that one is the entry's "from").
  if ((entry.action === 'session.revoked' || entry.action === 'api_token.revoked') && typeof entry.details?.device === 'string') {
    text += `: ${entry.details.device}`;
  }
  return text + outcome;
}

/** " — failed" / " — refused", unless the label already says so ("Sign-in failed"). */
function outcomeSuffix(label: string, outcome: 'failure' | 'refused'): string {
  return /fail|refus/i.test(label) ? '' : ` — ${OUTCOME_WORDS[outcome]}`;
}
