// jws.ts against an independent implementation: what signCompact makes, jose verifies; what jose
// signs (ES256), signatureValid accepts; and every alteration, wrong key or malformed input is a plain false.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { CompactSign, compactVerify, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signatureValid, signCompact } from './jws.js';

async function es256Pair() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    jose: { privateKey, publicKey },
    sign: { alg: 'ES256' as const, key: createPrivateKey({ key: { ...(await exportJWK(privateKey)) }, format: 'jwk' }) },
    check: createPublicKey({ key: { ...(await exportJWK(publicKey)) }, format: 'jwk' }),
  };
}

describe('compact JWS with node:crypto', () => {
  it('ES256 tokens it signs verify in jose, header and claims as given', async () => {
    const pair = await es256Pair();
    const token = signCompact({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { sub: 'u1', exp: 4_000_000_000 }, pair.sign);
    const { payload, protectedHeader } = await jwtVerify(token, pair.jose.publicKey, { algorithms: ['ES256'] });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    expect(payload).toEqual({ sub: 'u1', exp: 4_000_000_000 });
    expect(signatureValid(token, pair.check)).toBe(true);
  });

  it('HS256 tokens it signs verify in jose with the same secret, and not with another', async () => {
    const secret = randomBytes(32);
    const token = signCompact({ alg: 'HS256', typ: 'JWT' }, { sub: 'u1' }, { alg: 'HS256', key: secret });
    await expect(jwtVerify(token, secret, { algorithms: ['HS256'] })).resolves.toBeTruthy();
    await expect(jwtVerify(token, randomBytes(32), { algorithms: ['HS256'] })).rejects.toThrow();
  });

  it('accepts what jose signs (ES256), and refuses another key, any altered part and malformed input', async () => {
    const pair = await es256Pair();
    const other = await es256Pair();
    const token = await new CompactSign(Buffer.from('{"sub":"u1"}')).setProtectedHeader({ alg: 'ES256' }).sign(pair.jose.privateKey);
    await expect(compactVerify(token, pair.jose.publicKey)).resolves.toBeTruthy();
    expect(signatureValid(token, pair.check)).toBe(true);
    expect(signatureValid(token, other.check)).toBe(false);

    const [h, p, s] = token.split('.') as [string, string, string];
    const signature = Buffer.from(s, 'base64url');
    const flipped = Buffer.from(signature);
    flipped[10] = (flipped[10] as number) ^ 1;
    const altered = [
      `${h}.${Buffer.from('{"sub":"u2"}').toString('base64url')}.${s}`,
      `${Buffer.from('{"alg":"ES256","x":1}').toString('base64url')}.${p}.${s}`,
      `${h}.${p}.${flipped.toString('base64url')}`,
      `${h}.${p}.${signature.subarray(0, 63).toString('base64url')}`,
      `${h}.${p}.${Buffer.concat([signature, Buffer.from([0])]).toString('base64url')}`,
      `${h}.${p}.`,
      `${h}.${p}`,
      `${h}${p}${s}`,
      '',
      '.',
      '..',
      `${h}.${p}.${s}.${s}`,
    ];
    for (const bad of altered) expect(signatureValid(bad, pair.check), bad).toBe(false);
    for (let i = 0; i < 200; i++) expect(signatureValid(randomBytes(40).toString('latin1'), pair.check)).toBe(false);
  });
});
