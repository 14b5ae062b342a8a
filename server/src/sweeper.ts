import type { Db } from 'mongodb';
import type { Clock } from './context.js';
import { InvitationStore } from './invitations/index.js';
import { PairingStore } from './pairing/index.js';
import { SessionStore } from './sessions/index.js';
import { sweepDenylist } from './tokens/index.js';

/** Ended sessions stay listed for admins and audits this long before they are deleted. */
const SESSION_RETENTION_MS = 30 * 86_400_000;

/**
 * Removes records that can no longer matter, each through the feature that owns them: denylist
 * entries of tokens that have expired anyway, and sessions, pairings, refresh tokens and
 * invitations that ended more than 30 days ago. Every instance may run it; the deletes are idempotent. Readers
 * never rely on it: expiry is checked on every read.
 */
export async function sweepExpired(
  db: Db,
  clock: Clock,
): Promise<{ tokens: number; sessions: number; pairings: number; invitations: number }> {
  const now = clock.now();
  const old = new Date(now.getTime() - SESSION_RETENTION_MS);
  const [tokens, sessions, pairings, invitations] = await Promise.all([
    sweepDenylist(db, now),
    new SessionStore(db).deleteEndedBefore(old),
    new PairingStore(db).sweep(old),
    new InvitationStore(db).prune(old),
  ]);
  return { tokens, sessions, pairings, invitations };
}
