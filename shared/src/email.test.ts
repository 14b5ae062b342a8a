import { describe, expect, it } from 'vitest';
import { canonicalizeEmail } from './email.js';

describe('canonicalizeEmail (docs/security-tests.md N5)', () => {
  it('folds case and surrounding space', () => {
    expect(canonicalizeEmail('  Alice@Example.COM ')).toBe('alice@example.com');
  });

  it('removes zero-width and invisible characters', () => {
    expect(canonicalizeEmail('al\u200Bice@exa\u200Dmple.com')).toBe('alice@example.com');
    expect(canonicalizeEmail('\uFEFFalice@example.com')).toBe('alice@example.com');
  });

  it('folds compatibility look-alikes (fullwidth) to one form', () => {
    expect(canonicalizeEmail('ａｌｉｃｅ@ｅｘａｍｐｌｅ.com')).toBe('alice@example.com');
  });

  it('stores internationalised domains in punycode, so both spellings match', () => {
    expect(canonicalizeEmail('bob@Bücher.example')).toBe('bob@xn--bcher-kva.example');
    expect(canonicalizeEmail('bob@xn--bcher-kva.example')).toBe('bob@xn--bcher-kva.example');
  });

  it('refuses what it cannot make canonical', () => {
    for (const bad of [
      '',
      'alice',
      '@example.com',
      'alice@',
      'alicе@example.com' /* Cyrillic е */,
      'a b@example.com',
      'alice@exa mple.com',
      'alice@example',
      `${'a'.repeat(65)}@example.com`,
      'alice@ex/ample.com',
      '.alice@example.com',
      'alice@example.com.',
    ]) {
      expect(canonicalizeEmail(bad), bad).toBeNull();
    }
  });
});
