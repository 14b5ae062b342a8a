// docs/security-model.md "Privacy": client IPs are stored only encrypted under a per-user key (AES-256-GCM,
// HKDF of the master key and the user's salt) with a keyed blind index beside them; an IP is
// shown decrypted only to its own user; deleting the salt crypto-shreds that user's IPs while
// the records stay; a ciphertext moved to another user does not decrypt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/harness.js';
import { collection, SecretWatch, sessionRecordOf } from '../../test/http-checks.js';
import { ALICE, authorizeAtIdp, BOB, cookieFrom, startLogin } from '../../test/sign-in.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const ALICE_IP = '203.0.113.7';
const BOB_IP = '198.51.100.23';

let t: TestApp;
beforeAll(async () => {
  // One trusted proxy: the right-most X-Forwarded-For entry is the client, so each sign-in can
  // come from a distinctive address although supertest always connects from 127.0.0.1.
  t = watch.track(await createTestApp({ TRUST_PROXY_HOPS: '1' }));
});

/** A whole SSO sign-in whose requests arrive through the proxy from `ip`. */
async function signInFrom(user: typeof ALICE, ip: string) {
  const started = await startLogin(t);
  const back = await authorizeAtIdp(started, user);
  const response = await t.http
    .get(back.pathname + back.search)
    .set('Cookie', started.loginCookie)
    .set('X-Forwarded-For', `10.0.0.1, ${ip}`);
  expect(response.status, response.text).toBe(302);
  const cookie = cookieFrom(response.headers['set-cookie'], '__Host-gatehouse');
  if (!cookie) throw new Error('no session cookie');
  watch.add('session cookie', cookie);
  const session = await sessionRecordOf(t, cookie);
  return { cookie, session, requestId: String(response.headers['x-request-id']) };
}

/** The account page's table row of one session. */
function sessionRow(html: string, sessionId: string): string {
  const row = new RegExp(`<tr data-session-id="${sessionId}">(.*?)</tr>`).exec(html)?.[1];
  if (!row) throw new Error(`no row for session ${sessionId}`);
  return row;
}

async function rawJson(collection: string): Promise<string> {
  return JSON.stringify(await t.db.collection(collection).find().toArray());
}

async function userRecord(id: string) {
  const user = await t.db.collection<{ _id: string; keySalt?: string }>('users').findOne({ _id: id });
  if (!user) throw new Error('no user');
  return user;
}

describe('IP addresses at rest', () => {
  let alice: Awaited<ReturnType<typeof signInFrom>>;
  let bob: Awaited<ReturnType<typeof signInFrom>>;
  beforeAll(async () => {
    alice = await signInFrom(ALICE, ALICE_IP);
    bob = await signInFrom(BOB, BOB_IP);
  });

  it('never stores the IP in plaintext: not in sessions, audit, users, identities, nor in any log line', async () => {
    for (const collection of ['sessions', 'audit', 'users', 'identities']) {
      const raw = await rawJson(collection);
      expect(raw.length).toBeGreaterThan(2);
      expect(raw, collection).not.toContain(ALICE_IP);
      expect(raw, collection).not.toContain(BOB_IP);
    }
    const logs = t.logLines.join('');
    expect(logs).not.toContain(ALICE_IP);
    expect(logs).not.toContain(BOB_IP);
  });

  it('stores the session IP as a v1 AES-GCM envelope that decrypts with the owner’s key only', async () => {
    expect(alice.session.ip).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const aliceUser = await userRecord(alice.session.userId);
    expect(t.deps.ipCipher.decrypt(alice.session.ip ?? '', aliceUser._id, aliceUser.keySalt)).toBe(ALICE_IP);
    const audit = await t.db.collection('audit').findOne({ requestId: alice.requestId, action: 'login.succeeded' });
    expect(audit?.ipKey).toBe(aliceUser._id);
    expect(t.deps.ipCipher.decrypt(String(audit?.ip), aliceUser._id, aliceUser.keySalt)).toBe(ALICE_IP);
  });

  it('shows the IP decrypted on the account page to its own user only', async () => {
    const alicePage = await t.http.get('/account').set('Cookie', alice.cookie);
    expect(alicePage.status).toBe(200);
    expect(alicePage.text).toContain(ALICE_IP);
    expect(alicePage.text).not.toContain(BOB_IP);
    const bobPage = await t.http.get('/account').set('Cookie', bob.cookie);
    expect(bobPage.text).toContain(BOB_IP);
    expect(bobPage.text).not.toContain(ALICE_IP);
  });

  it('the blind index matches the same IP across sessions, users and the audit log, and differs for another IP', async () => {
    const expected = t.deps.ipCipher.blindIndex(ALICE_IP);
    expect(alice.session.ipIndex).toBe(expected);
    const audit = await t.db.collection('audit').findOne({ requestId: alice.requestId, action: 'login.succeeded' });
    expect(audit?.ipIndex).toBe(expected);

    const again = await signInFrom(ALICE, ALICE_IP);
    expect(again.session.ipIndex).toBe(expected);
    expect(again.session.ip).not.toBe(alice.session.ip); // fresh IV: equal IPs don't give equal ciphertexts
    const bobFromAliceIp = await signInFrom(BOB, ALICE_IP);
    expect(bobFromAliceIp.session.ipIndex).toBe(expected);
    expect(bob.session.ipIndex).not.toBe(expected);
    expect(await t.db.collection('sessions').countDocuments({ ipIndex: expected })).toBe(3);
  });

  it('a ciphertext moved to another user does not decrypt, and that user never sees the address', async () => {
    const aliceCiphertext = alice.session.ip ?? '';
    const bobUser = await userRecord(bob.session.userId);
    expect(t.deps.ipCipher.decrypt(aliceCiphertext, bobUser._id, bobUser.keySalt)).toBeNull();

    await collection(t, 'sessions').updateOne({ _id: bob.session._id }, { $set: { ip: aliceCiphertext } });
    const bobPage = await t.http.get('/account').set('Cookie', bob.cookie);
    expect(bobPage.status).toBe(200);
    const row = sessionRow(bobPage.text, bob.session._id);
    expect(row).not.toContain(ALICE_IP);
    expect(row).toContain('<td data-label="Where">Unknown</td>');
  });

  it('crypto-shredding: without the user’s salt their IPs no longer decrypt, while the records remain', async () => {
    const aliceId = alice.session.userId;
    const before = {
      sessions: await t.db.collection('sessions').countDocuments({ userId: aliceId }),
      audit: await t.db.collection('audit').countDocuments({ ipKey: aliceId }),
    };
    const salt = (await userRecord(aliceId)).keySalt;
    expect(salt).toBeTruthy();
    await collection(t, 'users').updateOne({ _id: aliceId }, { $unset: { keySalt: '' } });

    const sessions = await t.db.collection('sessions').find({ userId: aliceId }).toArray();
    const audits = await t.db.collection('audit').find({ ipKey: aliceId }).toArray();
    expect(sessions.length).toBe(before.sessions);
    expect(audits.length).toBe(before.audit);
    for (const record of [...sessions, ...audits]) {
      expect(record.ip).toMatch(/^v1\./);
      expect(t.deps.ipCipher.decrypt(String(record.ip), aliceId, (await userRecord(aliceId)).keySalt)).toBeNull();
    }
    // Nothing else can bring them back: not a new salt, not the blind index.
    expect(t.deps.ipCipher.decrypt(String(sessions[0]?.ip), aliceId, 'A'.repeat(43))).toBeNull();
    expect(sessions[0]?.ipIndex).toBe(t.deps.ipCipher.blindIndex(ALICE_IP));
  });

  it('the account page of a shredded user still opens and shows no address', async () => {
    const page = await t.http.get('/account').set('Cookie', alice.cookie);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(ALICE_IP);
    expect(sessionRow(page.text, alice.session._id)).toContain('<td data-label="Where">Unknown</td>');
  });

  it('a shredded user can still sign in; the new session and audit entry store no address at all', async () => {
    const again = await signInFrom(ALICE, ALICE_IP);
    expect(again.session.ip).toBeNull();
    const audit = await t.db.collection('audit').findOne({ requestId: again.requestId, action: 'login.succeeded' });
    expect(audit?.ip).toBeNull();
    expect(await rawJson('sessions')).not.toContain(ALICE_IP);
  });
});

it('keeps every secret of this file (cookies, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
