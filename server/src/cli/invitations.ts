import type { Services } from '../app.js';

/** `gatehouse invitations …`: invite from a shell (actor `cli`), list, withdraw (docs/invitations.md). */
export async function runInvitationsCommand(services: Services, args: string[]): Promise<{ lines: string[] }> {
  const [command, argument] = args;
  switch (command) {
    case 'create': {
      if (!argument) throw new Error('usage: gatehouse invitations create <email>');
      const { invitation, sent, url } = await services.invitations.invite({ kind: 'cli' }, argument);
      return {
        lines: sent
          ? [`invitation ${invitation.id} mailed to ${invitation.email} (until ${invitation.expiresAt})`]
          : [
              `invitation ${invitation.id} for ${invitation.email} NOT mailed (no SMTP_URL, or the server refused); pass on this single-use link (until ${invitation.expiresAt}):`,
              url ?? '',
            ],
      };
    }
    case 'list':
      return {
        lines: (await services.invitations.list(100)).map(
          (i) => `${i.id}\t${i.email}\t${i.status}\t${i.mailed ? 'mailed' : 'not mailed'}\tcreated ${i.createdAt}\texpires ${i.expiresAt}`,
        ),
      };
    case 'revoke': {
      if (!argument) throw new Error('usage: gatehouse invitations revoke <id>');
      await services.invitations.revoke({ kind: 'cli' }, argument);
      return { lines: [`invitation ${argument} withdrawn`] };
    }
    default:
      throw new Error('usage: gatehouse invitations create <email> | list | revoke <id>');
  }
}
