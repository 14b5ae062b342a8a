import type { Db } from 'mongodb';
import type { Clock } from '../context.js';
import type { Logger } from '../log/index.js';
import { COLLECTIONS } from './collections.js';

/** Ended sessions stay listed for admins and audits this long before they are deleted. */
const SESSION_RETENTION_MS = 30 * 86_400_000;

/**
 * Removes records that can no longer matter: denylist entries of tokens that have expired
 * anyway, and sessions that ended more than 30 days ago. Every instance may run it; the
 * deletes are idempotent. Readers never rely on it: expiry is checked on every read.
 */
export async function sweepExpired(db: Db, clock: Clock): Promise<{ tokens: number; sessions: number; pairings: number }> {
  const now = clock.now();
  const old = new Date(now.getTime() - SESSION_RETENTION_MS);
  const [tokens, sessions, pairings] = await Promise.all([
    db.collection(COLLECTIONS.revokedTokens).deleteMany({ expiresAt: { $lt: now } }),
    db.collection(COLLECTIONS.sessions).deleteMany({ absoluteExpiresAt: { $lt: old } }),
    // Pairing requests (and their one-time claims) live ten minutes; keep them a while for support.
    db.collection(COLLECTIONS.pairings).deleteMany({ expiresAt: { $lt: old } }),
    db.collection(COLLECTIONS.pairingClaims).deleteMany({ at: { $lt: old } }),
    // Rotated refresh tokens are kept while their session lives: they are how a replay is recognised.
    db.collection(COLLECTIONS.refreshTokens).deleteMany({ sessionExpiresAt: { $lt: old } }),
  ]);
  return { tokens: tokens.deletedCount, sessions: sessions.deletedCount, pairings: pairings.deletedCount };
}

/** Runs the sweeper every `intervalMs`; returns a stop function. */
export function startSweeper(db: Db, clock: Clock, log: Logger, intervalMs: number): () => void {
  const timer = setInterval(() => {
    sweepExpired(db, clock).then(
      (removed) => {
        if (removed.tokens || removed.sessions || removed.pairings) log.info(removed, 'store.swept');
      },
      (error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'store.sweep_failed'),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
