import { canonicalizeEmail } from '@gatehouse/shared';
import type { Services } from '../app.js';

const CHANGES = ['disable', 'enable', 'ban', 'unban'] as const;

/**
 * `gatehouse users …`: operators with shell access stop or restore accounts without the web
 * console; every change goes through the same AdminService as the API, audited as actor `cli`.
 */
export async function runUsersCommand(services: Services, args: string[]): Promise<{ lines: string[] }> {
  const [command, reference] = args;
  if (command === 'list') {
    const { users } = await services.admin.search({ limit: 100, ...(reference ? { q: reference } : {}) });
    return { lines: users.map((user) => `${user.id}\t${user.status}\t${user.roles.join(',')}\t${user.email ?? '-'}\t${user.name}`) };
  }
  if (!reference)
    throw new Error(
      'usage: gatehouse users list [search] | show|disable|enable|ban|unban|revoke-all|delete|set-password|reset-password <id or email>',
    );
  const userId = await resolveUser(services, reference);
  if (command === 'show') return { lines: [JSON.stringify(await services.admin.detail(userId), null, 2)] };
  if (command === 'revoke-all') {
    const count = await services.sessions.revokeAll(userId, 'cli_revoked_all');
    await services.audit.record({
      action: 'session.revoked_all',
      outcome: 'success',
      actor: 'cli',
      target: `user:${userId}`,
      details: { count },
    });
    return { lines: [`revoked ${count} session(s); every token of ${userId} is dead`] };
  }
  if (command === 'set-password') {
    // The password comes from stdin (never argv, which other users of the machine can read).
    const user = await services.users.findById(userId);
    if (!user) throw new Error(`no user ${reference}`);
    const password = (await readStdin()).replace(/\r?\n$/, '');
    await services.local.setPassword(user, password, undefined, 'cli');
    return { lines: [`password set for ${userId}`] };
  }
  if (command === 'reset-password') {
    const { url, expiresAt } = await services.resets.issue({ kind: 'cli' }, userId);
    return { lines: [`every session of ${userId} is ended; single-use reset link (until ${expiresAt}):`, url] };
  }
  if (command === 'delete') {
    await services.deletion.delete({ kind: 'cli' }, userId);
    return { lines: [`${userId} deleted; their IP addresses in the audit trail can no longer be read`] };
  }
  const change = CHANGES.find((candidate) => candidate === command);
  if (!change) throw new Error(`unknown users command "${command ?? ''}"`);
  const updated = await services.admin.changeStatus({ kind: 'cli' }, userId, change);
  return { lines: [`${updated._id} is now ${updated.status}`] };
}

async function resolveUser(services: Services, reference: string): Promise<string> {
  const email = reference.includes('@') ? canonicalizeEmail(reference) : null;
  const user = email ? await services.users.findByEmail(email) : await services.users.findById(reference);
  if (!user) throw new Error(`no user ${reference}`);
  return user._id;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new Error('password too long');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
