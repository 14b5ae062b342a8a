import type { User } from '../../users/index.js';
import type { StatusChange } from '../service.js';
import type { UserAction } from './schemas.js';

/** What the console says about an action: the button, the confirmation, and the banner after. */
export interface ActionText {
  button: string;
  /** The confirmation page's question, with the person's name. */
  question: (name: string) => string;
  /** What will happen, in plain words, on the confirmation page. */
  consequences: string[];
  /** The banner on the user's page once it is done. */
  done: string;
  /** Stops access: the confirm button is styled as dangerous. */
  danger: boolean;
}

const STOPS_EVERYTHING =
  'They are signed out everywhere at once: every browser session, API token and paired extension of theirs stops working on the next request, on every server.';

export const ACTION_TEXT: Record<UserAction, ActionText> = {
  disable: {
    button: 'Disable',
    question: (name) => `Disable ${name}?`,
    consequences: [STOPS_EVERYTHING, 'They cannot sign in until an admin enables the account again.'],
    done: 'Account disabled. Every session, API token and paired extension of it has stopped working.',
    danger: true,
  },
  enable: {
    button: 'Enable',
    question: (name) => `Enable ${name}?`,
    consequences: [
      'They can sign in again.',
      'Sessions, tokens and paired extensions ended by the disable stay ended: they sign in and pair afresh.',
    ],
    done: 'Account enabled. The person can sign in again.',
    danger: false,
  },
  ban: {
    button: 'Ban',
    question: (name) => `Ban ${name}?`,
    consequences: [
      STOPS_EVERYTHING,
      'They cannot sign in, and the account’s verified email addresses are recorded so that the person cannot come back through another identity or provider with the same email.',
      'Only an unban lifts it.',
    ],
    done: 'Account banned. Every session, API token and paired extension of it has stopped working.',
    danger: true,
  },
  unban: {
    button: 'Unban',
    question: (name) => `Unban ${name}?`,
    consequences: ['They can sign in again, and their recorded email addresses are released.', 'Old sessions and tokens stay ended.'],
    done: 'Account unbanned. The person can sign in again.',
    danger: false,
  },
  'revoke-all': {
    button: 'Sign out everywhere',
    question: (name) => `Sign ${name} out everywhere?`,
    consequences: [STOPS_EVERYTHING, 'The account stays active: they can sign in again straight away.'],
    done: 'Signed out everywhere. Every session, API token and paired extension of the account has stopped working.',
    danger: true,
  },
  'grant-admin': {
    button: 'Make admin',
    question: (name) => `Make ${name} an admin?`,
    consequences: [
      'They can use this console and the admin API: search users, see any account, and disable, enable, ban, unban or sign out everywhere any account that is not an admin or an owner.',
      'The role is kept whatever their identity provider’s groups say, until an owner takes it away.',
    ],
    done: 'Admin role granted.',
    danger: false,
  },
  'revoke-admin': {
    button: 'Take away admin',
    question: (name) => `Take the admin role away from ${name}?`,
    consequences: [
      'They can no longer use this console or the admin API, from their next request on. Their account and sessions stay as they are.',
      'If their identity provider still puts them in an admin group, they get the role back at their next sign-in.',
    ],
    done: 'Admin role taken away.',
    danger: true,
  },
};

const STATUS_CHANGES: Partial<Record<UserAction, StatusChange>> = { disable: 'disable', enable: 'enable', ban: 'ban', unban: 'unban' };

/** The status change behind an action, if it is one. */
export function statusChangeOf(action: UserAction): StatusChange | null {
  return STATUS_CHANGES[action] ?? null;
}

/**
 * The buttons a user's page offers, from the account's state and the viewer's role. This only
 * tidies the page; AdminService decides what is allowed, and its refusal is shown as a banner.
 */
export function offeredActions(target: Pick<User, '_id' | 'status' | 'roles'>, viewer: Pick<User, '_id' | 'roles'>): UserAction[] {
  const viewerIsOwner = viewer.roles.includes('owner');
  // The rules AdminService applies: never oneself, never an owner, another admin only for an owner.
  if (target._id === viewer._id || target.roles.includes('owner')) return [];
  const offered: UserAction[] = [];
  if (!target.roles.includes('admin') || viewerIsOwner) {
    if (target.status === 'active') offered.push('disable');
    if (target.status === 'disabled') offered.push('enable');
    if (target.status !== 'banned') offered.push('ban');
    if (target.status === 'banned') offered.push('unban');
    offered.push('revoke-all');
  }
  if (viewerIsOwner) offered.push(target.roles.includes('admin') ? 'revoke-admin' : 'grant-admin');
  return offered;
}

/**
 * Why AdminService refused, in words that fit this person and this account. It explains a
 * refusal that already happened; it never decides one.
 */
export function explainRefusal(
  code: string,
  action: UserAction,
  viewer: Pick<User, '_id' | 'roles'>,
  target: Pick<User, '_id' | 'name' | 'roles' | 'status'> | null,
): string {
  if (code === 'NOT_FOUND' || !target) return 'There is no such account any more.';
  if (code === 'USER_STATUS_CONFLICT')
    return `${target.name}’s account is ${target.status} now, so “${ACTION_TEXT[action].button}” does not apply. Nothing was changed.`;
  if (code === 'FORBIDDEN') {
    if (viewer._id === target._id) return 'You cannot do this to your own account. Ask another admin or an owner. Nothing was changed.';
    if (target.roles.includes('owner'))
      return `${target.name} is an owner. Owners cannot be disabled, banned, signed out or have their roles changed here. Nothing was changed.`;
    if ((action === 'grant-admin' || action === 'revoke-admin') && !viewer.roles.includes('owner'))
      return 'Only owners can grant or take away the admin role. Nothing was changed.';
    if (target.roles.includes('admin') && !viewer.roles.includes('owner'))
      return `${target.name} is an admin. Only an owner can act on another admin. Nothing was changed.`;
    return 'You are not allowed to do this. Nothing was changed.';
  }
  return 'That did not work. Nothing was changed.';
}
