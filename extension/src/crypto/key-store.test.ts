import { beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteKeyPair, loadKeyPair, loadOrCreateKeyPair } from './key-store.js';

describe('DPoP key store', () => {
  beforeEach(() => deleteKeyPair());

  it('creates a non-extractable P-256 signing key once and keeps it', async () => {
    expect(await loadKeyPair()).toBeNull();
    const [first, second] = await Promise.all([loadOrCreateKeyPair(), loadOrCreateKeyPair()]);
    expect(first.privateKey.extractable).toBe(false);
    expect(first.privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    await expect(crypto.subtle.exportKey('jwk', first.privateKey)).rejects.toThrow();
    const third = await loadOrCreateKeyPair();
    const jwk = (pair: CryptoKeyPair) => crypto.subtle.exportKey('jwk', pair.publicKey);
    expect(await jwk(second)).toEqual(await jwk(first));
    expect(await jwk(third)).toEqual(await jwk(first));
  });

  it('forgets the key on delete, so the next one is new', async () => {
    const first = await crypto.subtle.exportKey('jwk', (await loadOrCreateKeyPair()).publicKey);
    await deleteKeyPair();
    expect(await loadKeyPair()).toBeNull();
    const next = await crypto.subtle.exportKey('jwk', (await loadOrCreateKeyPair()).publicKey);
    expect(next).not.toEqual(first);
  });

  it('finds the same key after a restart (a fresh module reading IndexedDB)', async () => {
    const before = await crypto.subtle.exportKey('jwk', (await loadOrCreateKeyPair()).publicKey);
    vi.resetModules();
    const restarted = await import('./key-store.js');
    const pair = await restarted.loadKeyPair();
    expect(pair?.privateKey.extractable).toBe(false);
    expect(await crypto.subtle.exportKey('jwk', (pair as CryptoKeyPair).publicKey)).toEqual(before);
  });
});
