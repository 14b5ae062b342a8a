import type { Mail } from './mailer.js';

const when = (at: Date) => at.toUTCString().replace(' GMT', ' UTC');

/** The texts Gatehouse mails. Plain text: nothing to render wrongly, nothing remote to load. */
export const messages = {
  invitation(to: string, url: string, expiresAt: Date, inviter: string): Mail {
    return {
      to,
      subject: 'You are invited to Gatehouse',
      text: `${inviter} invited ${to} to sign in to Gatehouse.\n\nAccept the invitation:\n${url}\n\nThe link works once and until ${when(expiresAt)}. If you did not expect it, ignore this message.\n`,
    };
  },
  passwordReset(to: string, url: string, expiresAt: Date): Mail {
    return {
      to,
      subject: 'Set a new Gatehouse password',
      text: `An administrator reset the password of your Gatehouse account. Every session of it has been signed out.\n\nSet a new password:\n${url}\n\nThe link works once and until ${when(expiresAt)}.\n`,
    };
  },
  emailChange(to: string, url: string, expiresAt: Date): Mail {
    return {
      to,
      subject: 'Confirm your new Gatehouse email address',
      text: `Someone asked to use ${to} as the email address of a Gatehouse account.\n\nConfirm it:\n${url}\n\nThe link works once and until ${when(expiresAt)}. Until then the old address stays. If it was not you, ignore this message.\n`,
    };
  },
};
