// The test issuers' signing keys (the rogue IdP, the test SSF transmitter): a private key and
// the public JWK they publish, with its kid, alg and use.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A fresh key pair for `alg`; a random kid unless one is given (to make two keys share a kid). */
export async function newSigningKey(alg: 'RS256' | 'ES256', kid = randomBytes(6).toString('hex')): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}
