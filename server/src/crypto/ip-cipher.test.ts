import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IpCipher } from './ip-cipher.js';

const cipher = new IpCipher(randomBytes(32));
const alice = { id: 'user-alice', salt: IpCipher.newUserSalt() };
const bob = { id: 'user-bob', salt: IpCipher.newUserSalt() };

/** Seals an address for a user that has a salt (the only case where encrypt returns a value). */
function sealFor(ip: string, user: { id: string; salt: string }): string {
  const sealed = cipher.encrypt(ip, user.id, user.salt);
  if (sealed === null) throw new Error('not sealed');
  return sealed;
}

/** Splits a sealed value into its parts, for tampering. */
function parts(sealed: string) {
  const [version, iv, body] = sealed.split('.') as [string, string, string];
  return { version, iv: Buffer.from(iv, 'base64url'), body: Buffer.from(body, 'base64url') };
}
const seal = (version: string, iv: Buffer, body: Buffer) => `${version}.${iv.toString('base64url')}.${body.toString('base64url')}`;

describe('IpCipher (docs/security-model.md "Privacy")', () => {
  it.each([['203.0.113.7'], ['2001:db8::1'], ['::ffff:10.0.0.1'], ['10.0.0.1'], ['']])('round-trips %j for its own user', (ip) => {
    const sealed = sealFor(ip, alice);
    expect(cipher.decrypt(sealed, alice.id, alice.salt)).toBe(ip);
  });

  it('never contains the address in plaintext and uses a fresh IV every time', () => {
    const a = sealFor('203.0.113.7', alice);
    const b = sealFor('203.0.113.7', alice);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('203.0.113.7');
    expect(a).not.toBe(b);
    expect(parts(a).iv.equals(parts(b).iv)).toBe(false);
  });

  it('a user without a salt (crypto-shredded) gets nothing stored: encrypt returns null', () => {
    expect(cipher.encrypt('203.0.113.7', alice.id, undefined)).toBeNull();
    expect(cipher.encrypt('203.0.113.7', alice.id, null)).toBeNull();
    expect(cipher.encrypt('203.0.113.7', alice.id, '')).toBeNull();
  });

  it('crypto-shredding: without the salt (removed, null, empty) nothing decrypts', () => {
    const sealed = sealFor('203.0.113.7', alice);
    expect(cipher.decrypt(sealed, alice.id, undefined)).toBeNull();
    expect(cipher.decrypt(sealed, alice.id, null)).toBeNull();
    expect(cipher.decrypt(sealed, alice.id, '')).toBeNull();
    // A new salt (a "re-keyed" user) does not bring the old values back either.
    expect(cipher.decrypt(sealed, alice.id, IpCipher.newUserSalt())).toBeNull();
  });

  it("a ciphertext moved to another user does not decrypt, with either user's salt", () => {
    const sealed = sealFor('203.0.113.7', alice);
    expect(cipher.decrypt(sealed, bob.id, bob.salt)).toBeNull();
    // The user id is bound as associated data: alice's key under bob's id fails too.
    expect(cipher.decrypt(sealed, bob.id, alice.salt)).toBeNull();
    expect(cipher.decrypt(sealed, alice.id, bob.salt)).toBeNull();
  });

  it('another master key decrypts nothing', () => {
    const sealed = sealFor('203.0.113.7', alice);
    expect(new IpCipher(randomBytes(32)).decrypt(sealed, alice.id, alice.salt)).toBeNull();
  });

  it('tampering with the IV, the ciphertext or the tag is detected', () => {
    const { version, iv, body } = parts(sealFor('203.0.113.7', alice));
    const flip = (buffer: Buffer, index: number) => {
      const copy = Buffer.from(buffer);
      copy[index] = (copy[index] ?? 0) ^ 0x01;
      return copy;
    };
    expect(cipher.decrypt(seal(version, flip(iv, 0), body), alice.id, alice.salt)).toBeNull();
    expect(cipher.decrypt(seal(version, iv, flip(body, 0)), alice.id, alice.salt)).toBeNull();
    expect(cipher.decrypt(seal(version, iv, flip(body, body.length - 1)), alice.id, alice.salt)).toBeNull();
  });

  it('only a full 128-bit tag is accepted: a truncated tag (GCM allows 32 bits) does not decrypt', () => {
    // "10.0.0.1" is 8 bytes: body = 8 bytes ciphertext + 16 bytes tag. Keep the first 4 tag bytes.
    const { version, iv, body } = parts(sealFor('10.0.0.1', alice));
    for (const tagBytes of [4, 8, 12, 15]) {
      const truncated = Buffer.concat([body.subarray(0, 8), body.subarray(8, 8 + tagBytes)]);
      expect(cipher.decrypt(seal(version, iv, truncated), alice.id, alice.salt), `${tagBytes}-byte tag`).toBeNull();
    }
  });

  it.each([
    ['an unknown version', (s: string) => s.replace(/^v1\./, 'v2.')],
    ['a missing part', (s: string) => s.split('.').slice(0, 2).join('.')],
    ['an empty body', (s: string) => `${s.split('.').slice(0, 2).join('.')}.`],
    ['garbage', () => 'not-a-sealed-value'],
    ['an empty string', () => ''],
    ['a short IV', (s: string) => s.replace(/^v1\.[^.]+\./, 'v1.AAAA.')],
  ])('returns null (never throws) for %s', (_, mangle) => {
    const sealed = mangle(sealFor('203.0.113.7', alice));
    expect(() => cipher.decrypt(sealed, alice.id, alice.salt)).not.toThrow();
    expect(cipher.decrypt(sealed, alice.id, alice.salt)).toBeNull();
  });

  it('the blind index matches the same address for any user, differs for another address, and is keyed', () => {
    expect(cipher.blindIndex('203.0.113.7')).toBe(cipher.blindIndex('203.0.113.7'));
    expect(cipher.blindIndex('203.0.113.7')).not.toBe(cipher.blindIndex('203.0.113.8'));
    expect(cipher.blindIndex('203.0.113.7')).not.toContain('203');
    expect(cipher.blindIndex('203.0.113.7')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new IpCipher(randomBytes(32)).blindIndex('203.0.113.7')).not.toBe(cipher.blindIndex('203.0.113.7'));
  });

  it('new user salts are random 256-bit values', () => {
    const salts = new Set(Array.from({ length: 50 }, () => IpCipher.newUserSalt()));
    expect(salts.size).toBe(50);
    for (const salt of salts) expect(Buffer.from(salt, 'base64url')).toHaveLength(32);
  });
});
