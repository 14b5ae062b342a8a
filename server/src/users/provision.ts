import { emailDomain, type Role } from '@gatehouse/shared';
import type { ProviderConfig } from '../config/index.js';
import type { Clock } from '../context.js';
import { IpCipher, randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { Identity, User, UserStore } from './store.js';

/** What a verified ID token (and userinfo) told us about the person. */
export interface UpstreamProfile {
  iss: string;
  sub: string;
  /** Canonical email, or null when absent or not canonicalisable. */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  groups: string[];
}

export interface SignInResolution {
  user: User;
  identity: Identity;
  created: boolean;
  /** The identity provider's groups changed the account's roles at this sign-in. */
  rolesChanged: boolean;
}

/**
 * Finds or creates the account behind an upstream identity. Accounts are found by (iss, sub)
 * only. An email links an identity to an existing account in exactly one case: the account was
 * created by setup or invitation for that email, has never signed in, and the provider says
 * the email is verified (docs/security-tests.md O12). Otherwise a new account is created, if signup is
 * open and the domain allowed. Status is checked by the caller after resolution;
 * the sign-in of an account that is not active is not recorded.
 */
export async function resolveSignIn(
  store: UserStore,
  provider: ProviderConfig,
  profile: UpstreamProfile,
  options: {
    signupDisabled: boolean;
    clock: Clock;
    /**
     * The invitation this sign-in follows: a new account may be made whatever the signup and
     * domain rules, with the invited address, once `claim` (which uses the invitation up) agrees.
     */
    invitation?: { email: string; claim: (userId: string) => Promise<boolean> };
  },
): Promise<SignInResolution> {
  const now = options.clock.now();
  const existing = await store.findIdentity(profile.iss, profile.sub);
  if (existing) {
    const user = await store.findById(existing.userId);
    if (!user) throw new AppError('INTERNAL_ERROR', { detail: 'identity without user' });
    // A refused account is left as it was: no sign-in recorded, no roles remapped.
    if (user.status !== 'active') return { user, identity: existing, created: false, rolesChanged: false };
    const roles = mapRoles(user.roles, provider, profile.groups, user.grantedRoles);
    await store.recordSignIn(existing._id, user._id, seenClaims(profile), now, roles);
    return { user: { ...user, roles }, identity: existing, created: false, rolesChanged: !sameRoles(roles, user.roles) };
  }

  // A banned person cannot come back through another identity with the same verified email.
  if (profile.email && profile.emailVerified && (await store.isBanned(profile.email))) throw new AppError('ACCOUNT_BANNED');

  const invited = await findPendingAccount(store, profile);
  if (invited) {
    const claimed = await store.claimPending(invited._id, now);
    if (claimed) return attachIdentity(store, claimed, provider, profile, now, false);
  }

  const userId = randomId();
  let email = profile.email && profile.emailVerified ? profile.email : undefined;
  if (options.invitation) {
    if (await store.isBanned(options.invitation.email)) throw new AppError('ACCOUNT_BANNED');
    if (!(await options.invitation.claim(userId))) throw new AppError('INVITATION_INVALID');
    // The link reached that mailbox: the invited address is the account's.
    email = options.invitation.email;
  } else {
    if (options.signupDisabled) throw new AppError('SIGNUP_CLOSED');
    if (provider.allowedDomains.length > 0) {
      const domain = profile.email && profile.emailVerified ? emailDomain(profile.email) : null;
      if (!domain || !provider.allowedDomains.includes(domain)) throw new AppError('DOMAIN_NOT_ALLOWED');
    }
  }

  // The email goes on the account only if verified (or invited) and no other account holds it.
  const user = newAccount(
    {
      _id: userId,
      ...(email && !(await store.findByEmail(email)) ? { email } : {}),
      name: profile.name ?? profile.email ?? 'New user',
      roles: mapRoles(['user'], provider, profile.groups),
    },
    now,
  );
  if (!(await store.insertUser(user))) {
    // Lost a race for the email: create the account without it.
    delete user.email;
    if (!(await store.insertUser(user))) throw new AppError('INTERNAL_ERROR', { detail: 'user insert conflict' });
  }
  return attachIdentity(store, user, provider, profile, now, true);
}

/**
 * A new active account: token version 0 and a fresh IP-key salt. The one place that makes a
 * user record (SSO sign-up, setup's owner, an invited local account).
 */
export function newAccount(
  fields: Pick<User, 'name' | 'roles'> & Partial<Pick<User, '_id' | 'email' | 'pendingFirstSignIn'>>,
  now: Date,
): User {
  return {
    ...fields,
    _id: fields._id ?? randomId(),
    status: 'active',
    tokenVersion: 0,
    keySalt: IpCipher.newUserSalt(),
    createdAt: now,
    updatedAt: now,
  };
}

async function findPendingAccount(store: UserStore, profile: UpstreamProfile): Promise<User | null> {
  if (!profile.email || profile.emailVerified !== true) return null;
  const user = await store.findByEmail(profile.email);
  return user?.pendingFirstSignIn ? user : null;
}

async function attachIdentity(
  store: UserStore,
  user: User,
  provider: ProviderConfig,
  profile: UpstreamProfile,
  now: Date,
  created: boolean,
): Promise<SignInResolution> {
  const identity: Identity = {
    _id: randomId(),
    iss: profile.iss,
    sub: profile.sub,
    providerId: provider.id,
    userId: user._id,
    ...seenClaims(profile),
    createdAt: now,
    lastSignInAt: now,
  };
  if (!(await store.insertIdentity(identity))) {
    // A concurrent sign-in of the same person created the identity first: use theirs.
    const winner = await store.findIdentity(profile.iss, profile.sub);
    const winnerUser = winner && (await store.findById(winner.userId));
    if (!winner || !winnerUser) throw new AppError('INTERNAL_ERROR', { detail: 'identity race' });
    if (created) await store.removeUnused(user._id);
    return { user: winnerUser, identity: winner, created: false, rolesChanged: false };
  }
  const roles = mapRoles(user.roles, provider, profile.groups, user.grantedRoles);
  await store.recordSignIn(identity._id, user._id, seenClaims(profile), now, roles);
  return { user: { ...user, roles, lastSignInAt: now }, identity, created, rolesChanged: !created && !sameRoles(roles, user.roles) };
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join() === [...b].sort().join();
}

/**
 * Group mapping: membership of an admin group grants `admin`; leaving it removes `admin` again
 * at the next sign-in. `owner` is never touched here.
 */
export function mapRoles(current: Role[], provider: ProviderConfig, groups: string[], granted: Role[] = []): Role[] {
  const isAdmin = groups.some((group) => provider.adminGroups.includes(group));
  const roles = new Set<Role>(current);
  roles.add('user');
  if (isAdmin) roles.add('admin');
  else if (provider.adminGroups.length > 0 && !granted.includes('admin')) roles.delete('admin');
  return [...roles].sort();
}

function seenClaims(profile: UpstreamProfile): Pick<Identity, 'email' | 'emailVerified' | 'name' | 'groups'> {
  return { email: profile.email, emailVerified: profile.emailVerified, name: profile.name, groups: profile.groups };
}
