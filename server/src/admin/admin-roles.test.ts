// Roles (issue #6): owners grant and take away the admin role; admins cannot; nobody changes an
// owner or themself; a granted admin role survives the identity provider's group mapping at the
// next sign-in, and taking it away sticks too. Every change is audited as role.changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, startBrowserSession, TEST_ORIGIN, type TestApp } from '../../test/harness.js';
import { ALICE, BOB, signIn } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

describe('role changes by owners', () => {
  let t: TestApp;
  let owner: User;
  let admin: User;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await createUser(t, { name: 'Olga Owner', roles: ['admin', 'owner', 'user'] });
    admin = await createUser(t, { name: 'Ada Admin', roles: ['admin', 'user'] });
  });
  afterAll(() => t.close());

  async function setAdmin(actor: User, targetId: string, value: unknown) {
    const { cookie, sessionId } = await startBrowserSession(t, actor);
    return t.http
      .post(`/api/v1/admin/users/${targetId}/roles`)
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .set('X-CSRF-Token', t.services.csrf.forSession(sessionId))
      .send({ admin: value });
  }
  const rolesOf = async (id: string) => (await t.services.users.findById(id))?.roles;

  it('an owner grants admin; it survives sign-in through a provider whose admin groups do not include the person', async () => {
    await signIn(t, BOB); // bob is not in the dev IdP's "admins" group
    const bob = (await t.services.users.findByEmail(BOB.login)) as User;
    expect(bob.roles).toEqual(['user']);

    const granted = await setAdmin(owner, bob._id, true);
    expect(granted.status).toBe(200);
    expect(granted.body.roles).toEqual(['admin', 'user']);
    await signIn(t, BOB);
    expect(await rolesOf(bob._id)).toEqual(['admin', 'user']);

    const taken = await setAdmin(owner, bob._id, false);
    expect(taken.body.roles).toEqual(['user']);
    await signIn(t, BOB);
    expect(await rolesOf(bob._id)).toEqual(['user']);

    const audited = await t.db
      .collection('audit')
      .find({ action: 'role.changed', target: `user:${bob._id}` })
      .toArray();
    expect(audited.map((entry) => entry.details.roles)).toEqual([['admin', 'user'], ['user']]);
  });

  it('roles mapped from the provider’s groups change at sign-in, audited as user.updated', async () => {
    await signIn(t, ALICE); // alice is in the dev IdP's "admins" group
    const alice = (await t.services.users.findByEmail(ALICE.login)) as User;
    expect(alice.roles).toEqual(['admin', 'user']);
    // Another instance whose provider maps a different group to admin: alice's admin role goes.
    const other = await createTestApp({ OIDC_DEV_ADMIN_GROUPS: 'security-team' }, { sharedWith: t });
    try {
      await signIn(other, ALICE);
    } finally {
      await other.close();
    }
    expect(await rolesOf(alice._id)).toEqual(['user']);
    const updated = await t.db
      .collection('audit')
      .find({ action: 'user.updated', target: `user:${alice._id}` })
      .toArray();
    expect(updated.map((entry) => entry.details)).toEqual([{ provider: 'dev', roles: ['user'], reason: 'idp_groups' }]);
  });

  it('refuses admins, changes to an owner or to oneself, and bad bodies', async () => {
    const person = await createUser(t);
    const byAdmin = await setAdmin(admin, person._id, true);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.code).toBe('FORBIDDEN');
    expect((await setAdmin(owner, owner._id, false)).status).toBe(403);
    const otherOwner = await createUser(t, { roles: ['owner', 'user'] });
    expect((await setAdmin(owner, otherOwner._id, false)).status).toBe(403);
    for (const bad of ['yes', null, { $ne: false }]) {
      const response = await setAdmin(owner, person._id, bad);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await setAdmin(owner, 'no-such-user-id', true)).status).toBe(404);
    // Sign-out-everywhere for someone else follows the same rules: an admin cannot do it to an owner.
    const { cookie, sessionId } = await startBrowserSession(t, admin);
    const revokeOwner = await t.http
      .post(`/api/v1/users/${owner._id}/sessions/revoke-all`)
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .set('X-CSRF-Token', t.services.csrf.forSession(sessionId));
    expect(revokeOwner.status).toBe(403);
    expect(await rolesOf(person._id)).toEqual(['user']);
  });
});
