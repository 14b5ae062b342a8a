// The verification pipeline on its own, with a static HS256 ring and a hand-moved clock: the
// round trip per type, the size cap before parsing, non-canonical JSON (duplicate keys), the
// verified-token cache never outliving the key that signed, and "every failure is a 401".
import { createHmac, randomBytes } from 'node:crypto';
import { TOKEN_TYPES, type TokenType } from '@gatehouse/shared';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../context.js';
import { AppError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { TokenIssuer } from './jwt.js';
import { Keyring } from './keyring.js';

const ISSUER = 'https://id.example.com';
const secret = randomBytes(32);

class ManualClock implements Clock {
  ms = Date.UTC(2030, 0, 1);
  now(): Date {
    return new Date(this.ms);
  }
}

async function setup() {
  const clock = new ManualClock();
  const keyring = await Keyring.fromSecret(secret, createLogger('silent'));
  return { clock, keyring, issuer: new TokenIssuer(keyring, ISSUER, clock) };
}

/** The code a verification fails with; anything but a 401 AppError fails the test. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(401);
    return (error as AppError).code;
  }
  throw new Error('expected the token to be refused');
}

const enc = (text: string) => Buffer.from(text).toString('base64url');
function hs256(header: string, payload: string): string {
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function sameBytes(a: string, b: string): boolean {
  const parts = (token: string) => token.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex'));
  return /^[\w-]*\.[\w-]*\.[\w-]*$/.test(a) && parts(a).join('.') === parts(b).join('.');
}

describe('TokenIssuer', () => {
  it.each(Object.keys(TOKEN_TYPES) as TokenType[])('mints and verifies a %s token, and refuses it as any other type', async (type) => {
    const { issuer } = await setup();
    const { token, claims } = await issuer.mint(type, { sub: 'u1', tokenVersion: 3, ttlSeconds: 60, sid: 's1', scope: ['sessions:read'] });
    expect(await issuer.verify(token, type)).toEqual(claims);
    for (const other of Object.keys(TOKEN_TYPES) as TokenType[]) {
      if (other !== type) expect(await failure(issuer.verify(token, other))).toBe('TOKEN_INVALID'); // cached or not
    }
  });

  it('an expired token is TOKEN_EXPIRED, also when it was cached', async () => {
    const { issuer, clock } = await setup();
    const { token } = await issuer.mint('api', { sub: 'u1', tokenVersion: 0, ttlSeconds: 60 });
    await issuer.verify(token, 'api');
    clock.ms += 61_000;
    expect(await failure(issuer.verify(token, 'api'))).toBe('TOKEN_EXPIRED');
  });

  it('J16 refuses an oversized token before parsing it: 200 tokens of 1 MB in well under a second each', async () => {
    const { issuer } = await setup();
    const { token } = await issuer.mint('api', { sub: 'u1', tokenVersion: 0, ttlSeconds: 60 });
    const [header, payload, signature] = token.split('.');
    const huge = `${header}.${payload}${'A'.repeat(1024 * 1024)}.${signature}`;
    const started = Date.now();
    for (let i = 0; i < 200; i++) expect(await failure(issuer.verify(huge, 'api'))).toBe('TOKEN_INVALID');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await failure(issuer.verify(`${token}${'A'.repeat(8192)}`, 'api'))).toBe('TOKEN_INVALID');
  });

  it('J15 refuses validly signed JSON that is not what we produce: duplicate keys, spacing, escapes', async () => {
    const { issuer, clock, keyring } = await setup();
    const kid = keyring.signingKey().kid;
    const now = Math.floor(clock.ms / 1000);
    const header = JSON.stringify({ alg: 'HS256', typ: TOKEN_TYPES.api.typ, kid });
    const claims = { tv: 0, iss: ISSUER, aud: TOKEN_TYPES.api.audience, sub: 'u1', jti: 'j1', iat: now, exp: now + 60 };
    const payload = JSON.stringify(claims);
    expect((await issuer.verify(hs256(header, payload), 'api')).sub).toBe('u1'); // control: canonical
    for (const [h, p] of [
      [header, payload.replace('{', '{"sub":"admin",')],
      [header, payload.replace('{', `{"aud":"${TOKEN_TYPES.session.audience}",`)],
      [header.replace('{', '{"alg":"none",'), payload],
      [header, JSON.stringify(claims, null, 1)],
      [header, payload.replace('"u1"', '"\\u00751"')],
      [` ${header}`, payload],
    ]) {
      expect(await failure(issuer.verify(hs256(h ?? '', p ?? ''), 'api'))).toBe('TOKEN_INVALID');
    }
  });

  it('a cached token stops verifying once its key leaves the ring (pruned)', async () => {
    const clock = new ManualClock();
    const real = await Keyring.fromSecret(secret, createLogger('silent'));
    let present = true;
    const ring = {
      signingKey: () => real.signingKey(),
      verificationKey: (kid: string) => (present ? real.verificationKey(kid) : null),
    } as unknown as Keyring;
    const issuer = new TokenIssuer(ring, ISSUER, clock);
    const { token } = await issuer.mint('session', { sub: 'u1', tokenVersion: 0, ttlSeconds: 600, sid: 's1' });
    await issuer.verify(token, 'session');
    await issuer.verify(token, 'session'); // served from the cache
    present = false;
    expect(await failure(issuer.verify(token, 'session'))).toBe('TOKEN_INVALID');
  });

  it('every mutation of a valid token is a 401 AppError, never another error (2,000 random mutations)', async () => {
    const { issuer } = await setup();
    const { token } = await issuer.mint('access', {
      sub: 'u1',
      tokenVersion: 0,
      ttlSeconds: 60,
      sid: 's',
      scope: ['a'],
      clientId: 'c',
      jkt: 'j',
    });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}"\u0000';
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2_000; i++) {
      const chars = [...token];
      for (let j = 0, edits = 1 + random(4); j < edits; j++) {
        const at = random(chars.length);
        const action = random(3);
        if (action === 0) chars[at] = alphabet[random(alphabet.length)] ?? 'A';
        else if (action === 1) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[random(alphabet.length)] ?? 'A');
      }
      const mutated = chars.join('');
      // Base64url's last character carries unused bits: a change there can decode to the very
      // same bytes, i.e. the same token. Only real changes count.
      if (sameBytes(mutated, token)) continue;
      await failure(issuer.verify(mutated, 'access'));
    }
  });
});
