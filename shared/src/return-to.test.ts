import { describe, expect, it } from 'vitest';
import { safeReturnPath } from './return-to.js';

describe('safeReturnPath (docs/security-tests.md N7)', () => {
  it('keeps same-origin paths with their query and fragment', () => {
    expect(safeReturnPath('/account')).toBe('/account');
    expect(safeReturnPath('/pair?code=ABCD-EFGH#x')).toBe('/pair?code=ABCD-EFGH#x');
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https:evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    '%2F%2Fevil.example',
    '/%2F%2Fevil.example'.replace('/', ''),
    '%252F%252Fevil.example',
    '/%5Cevil.example',
    '/\tevil',
    '/.//evil.example',
    '/..//evil.example',
    '/%2e%2e//evil.example',
    '/account/../..//evil.example',
    '/\r\nSet-Cookie:x=1',
    'data:text/html,hi',
    '',
    'account',
    `/${'a'.repeat(600)}`,
  ])('refuses %j', (value) => {
    expect(safeReturnPath(value)).toBeNull();
  });

  it('refuses non-strings', () => {
    expect(safeReturnPath(['/a'])).toBeNull();
    expect(safeReturnPath({ $ne: null })).toBeNull();
    expect(safeReturnPath(undefined)).toBeNull();
  });
});
