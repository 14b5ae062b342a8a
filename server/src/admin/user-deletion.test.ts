// Deleting a person (issue #6): every token dies on every instance at the next request, their
// identities, sessions and paired credentials go, and their key salt with the account, so the
// IP addresses sealed under their key in the audit trail — which stays — can never be read
// again (crypto-shredding). Owners and the CLI delete; admins, oneself and owners are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  createUser,
  issueApiToken,
  runGatehouse,
  startBrowserSession,
  TEST_ORIGIN,
  type TestApp,
} from '../../test/harness.js';
import { ALICE, BOB, signIn } from '../../test/sign-in.js';
import type { User } from '../users/index.js';

describe('deleting a user', () => {
  let a: TestApp;
  let b: TestApp;
  let owner: User;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({}, { sharedWith: a });
    owner = await createUser(a, { name: 'Olga Owner', roles: ['admin', 'owner', 'user'] });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function deleteAs(actor: User, targetId: string) {
    const { cookie, sessionId } = await startBrowserSession(a, actor);
    return a.http
      .delete(`/api/v1/admin/users/${targetId}`)
      .set('Cookie', cookie)
      .set('Origin', TEST_ORIGIN)
      .set('X-CSRF-Token', a.services.csrf.forSession(sessionId));
  }

  it('an owner deletes a person: tokens die on the other instance, records go, audit IPs become unreadable', async () => {
    const { sessionCookie } = await signIn(a, BOB);
    const bob = (await a.services.users.findByEmail(BOB.login)) as User;
    const { token } = await issueApiToken(a, bob);
    expect((await b.http.get('/api/v1/me').set('Cookie', sessionCookie)).status).toBe(200);
    const sealed = await a.db
      .collection('audit')
      .find({ ipKey: bob._id, ip: { $ne: null } })
      .toArray();
    expect(sealed.length).toBeGreaterThan(0);
    expect(a.deps.ipCipher.decrypt(sealed[0]?.ip, bob._id, bob.keySalt)).not.toBeNull();

    expect((await deleteAs(owner, bob._id)).status).toBe(204);

    expect((await b.http.get('/api/v1/me').set('Cookie', sessionCookie)).status).toBe(401);
    expect((await b.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect(await a.db.collection('users').findOne({ _id: bob._id as never })).toBeNull();
    for (const name of ['identities', 'sessions', 'refresh_tokens', 'pairings'])
      expect(await a.db.collection(name).countDocuments({ userId: bob._id })).toBe(0);
    // The audit trail stays, but nothing in the database holds the salt any more.
    const after = await a.db
      .collection('audit')
      .find({ ipKey: bob._id, ip: { $ne: null } })
      .toArray();
    expect(after.length).toBe(sealed.length);
    const dump = JSON.stringify(
      await Promise.all(['users', 'identities', 'sessions', 'system'].map((n) => a.db.collection(n).find().toArray())),
    );
    expect(dump).not.toContain(bob.keySalt);
    const deleted = await a.db.collection('audit').findOne({ action: 'user.deleted', target: `user:${bob._id}` });
    expect(deleted?.actor).toBe(`user:${owner._id}`);

    // Signing in again makes a new, empty account.
    await signIn(a, BOB);
    const again = (await a.services.users.findByEmail(BOB.login)) as User;
    expect(again._id).not.toBe(bob._id);
  });

  it('admins, oneself and owners cannot be deleted through the API; unknown ids are 404', async () => {
    const admin = await createUser(a, { roles: ['admin', 'user'] });
    const person = await createUser(a);
    expect((await deleteAs(admin, person._id)).status).toBe(403);
    expect((await deleteAs(owner, owner._id)).status).toBe(403);
    const otherOwner = await createUser(a, { roles: ['owner', 'user'] });
    expect((await deleteAs(owner, otherOwner._id)).status).toBe(403);
    expect((await deleteAs(owner, 'no-such-user-0')).status).toBe(404);
    expect(await a.services.users.findById(person._id)).not.toBeNull();
  });

  it('the CLI deletes by email, audited as cli', async () => {
    await signIn(a, ALICE);
    const alice = (await a.services.users.findByEmail(ALICE.login)) as User;
    const result = await runGatehouse(a, ['users', 'delete', ALICE.login]);
    expect(result.code).toBe(0);
    expect(await a.services.users.findById(alice._id)).toBeNull();
    expect((await a.db.collection('audit').findOne({ action: 'user.deleted', target: `user:${alice._id}` }))?.actor).toBe('cli');
  });
});
