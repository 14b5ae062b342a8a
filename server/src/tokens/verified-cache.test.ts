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
