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
export async function sweepExpired(db: Db, clock: Clock): Promise<{ tokens: number; sessions: number }> {
  const now = clock.now();
  const old = new Date(now.getTime() - SESSION_RETENTION_MS);
  const [tokens, sessions] = await Promise.all([
    db.collection(COLLECTIONS.revokedTokens).deleteMany({ expiresAt: { $lt: now } }),
    db.collection(COLLECTIONS.sessions).deleteMany({ absoluteExpiresAt: { $lt: old } }),
  ]);
  return { tokens: tokens.deletedCount, sessions: sessions.deletedCount };
}

/** Runs the sweeper every `intervalMs`; returns a stop function. */
export function startSweeper(db: Db, clock: Clock, log: Logger, intervalMs: number): () => void {
  const timer = setInterval(() => {
    sweepExpired(db, clock).then(
      (removed) => {
        if (removed.tokens || removed.sessions) log.info(removed, 'store.swept');
      },
      (error: unknown) => log.warn({ err: { message: (error as Error).message } }, 'store.sweep_failed'),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
