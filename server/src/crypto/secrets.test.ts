import { describe, expect, it } from 'vitest';
import { KnownSecrets, randomId, requestId, safeEqual, sha256 } from './secrets.js';

describe('safeEqual (docs/security-tests.md N9)', () => {
  it('is true only for identical values', () => {
    expect(safeEqual('correct horse', 'correct horse')).toBe(true);
    expect(safeEqual(Buffer.from('abc'), 'abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
  });

  it.each([
    ['a different value', 'secret-a', 'secret-b'],
    ['a prefix', 'secret', 'secret-and-more'],
    ['a longer value', 'secret-and-more', 'secret'],
    ['the empty string', '', 'secret'],
    ['another case', 'Secret', 'secret'],
    ['a trailing NUL', 'secret\u0000', 'secret'],
    ['a Unicode look-alike', 'secrеt', 'secret'],
    ['a different normalisation', 'e\u0301', '\u00e9'],
  ])('is false for %s', (_, a, b) => {
    expect(safeEqual(a, b)).toBe(false);
    expect(safeEqual(b, a)).toBe(false);
  });

  it('does not throw on inputs of different lengths (timingSafeEqual alone would)', () => {
    expect(() => safeEqual('a', 'a'.repeat(10_000))).not.toThrow();
  });
});

describe('KnownSecrets (docs/security-tests.md N9)', () => {
  const known = new KnownSecrets(['first secret', 'second, longer secret']);

  it('knows each of its secrets, whichever is the longest', () => {
    expect(known.has('first secret')).toBe(true);
    expect(known.has('second, longer secret')).toBe(true);
    expect(known.has('first secret')).toBe(true); // the buffer of the check before is not left over
  });

  it.each([
    ['another value', 'third secret'],
    ['a prefix', 'first'],
    ['a longer value', 'first secret '],
    ['a value padded with NULs to the width', 'first secret\u0000\u0000'],
    ['a value longer than the width', 'second, longer secret and more'],
    ['a value that is cut at the width into a secret', `second, longer secret${'x'.repeat(1000)}`],
    ['the empty string', ''],
    ['another case', 'First secret'],
  ])('refuses %s, and knows nothing without secrets', (_, presented) => {
    expect(known.has(presented)).toBe(false);
    expect(new KnownSecrets([]).has(presented)).toBe(false);
  });

  it('compares bytes, not UTF-16 units, and agrees with safeEqual', () => {
    const accented = new KnownSecrets(['pâté']);
    expect(accented.has('pâté')).toBe(true);
    expect(accented.has('pate')).toBe(false);
    expect(new KnownSecrets(['ab']).has('aé')).toBe(false); // 'é' is two bytes: cut at the width
    for (const [a, b] of [
      ['x', 'x'],
      ['x', 'y'],
      ['', 'x'],
      ['x', ''],
    ] as const)
      expect(new KnownSecrets([b]).has(a)).toBe(safeEqual(a, b));
  });
});

describe('randomId and sha256', () => {
  it('randomId is url-safe with the requested entropy and never repeats', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(randomId(32), 'base64url')).toHaveLength(32);
  });

  it('randomId hands out each pooled byte once, across refills of the pool, at every size', () => {
    // 4 KiB pool: 3,000 ids of 32 bytes refill it about 24 times, and 33 or 12 bytes leave ragged ends.
    for (const bytes of [32, 33, 12, 64, 65, 200]) {
      const ids = Array.from({ length: 3000 }, () => randomId(bytes));
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids.slice(0, 50)) expect(Buffer.from(id, 'base64url')).toHaveLength(bytes);
      // The pool is zeroed behind each id: an id read after zeroing would be all zero bytes.
      const zeroRuns = ids.filter((id) => Buffer.from(id, 'base64url').every((byte) => byte === 0));
      expect(zeroRuns).toEqual([]);
    }
  });

  it('request ids come from the same pool, 12 bytes each', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => requestId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('sha256 is the base64url SHA-256', () => {
    expect(sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});
