import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-cache.js';

describe('VerifiedTokenCache', () => {
  it('returns an entry until it expires, then forgets it', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('token', 'claims', 1_000);
    expect(cache.get('token', 999)).toBe('claims');
    expect(cache.get('token', 1_000)).toBeUndefined();
    expect(cache.get('token', 0)).toBeUndefined(); // gone for good
  });

  it('is keyed by the whole token: a token differing in one character misses', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('a.b.c', 'claims', 1_000);
    expect(cache.get('a.b.d', 0)).toBeUndefined();
  });

  it('never serves a token that shares only the signature of a cached one (another header or payload)', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('header.payload.signature', 'claims', 1_000);
    expect(cache.get('header.payloaD.signature', 0)).toBeUndefined();
    expect(cache.get('other.payload.signature', 0)).toBeUndefined();
    expect(cache.get('payload.signature', 0)).toBeUndefined();
    expect(cache.get('signature', 0)).toBeUndefined();
    expect(cache.get('header.payload.signature', 0)).toBe('claims'); // still there for the token itself
  });

  it('keeps a token of another signature apart, and a token without dots too', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('h.p.s1', 'one', 1_000);
    cache.set('h.p.s2', 'two', 1_000);
    cache.set('nodots', 'three', 1_000);
    expect([cache.get('h.p.s1', 0), cache.get('h.p.s2', 0), cache.get('nodots', 0)]).toEqual(['one', 'two', 'three']);
  });

  it('stays bounded, evicting the oldest entry first', () => {
    const cache = new VerifiedTokenCache<number>(3);
    for (let i = 0; i < 5; i++) cache.set(`t${i}`, i, 1_000);
    expect([0, 1, 2, 3, 4].map((i) => cache.get(`t${i}`, 0))).toEqual([undefined, undefined, 2, 3, 4]);
  });

  it('clear() drops everything', () => {
    const cache = new VerifiedTokenCache<number>();
    cache.set('t', 1, 1_000);
    cache.clear();
    expect(cache.get('t', 0)).toBeUndefined();
  });
});
