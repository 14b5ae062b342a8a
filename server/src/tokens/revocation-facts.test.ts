// B1 (docs/security-tests.md): the revocation-facts script answers one string
// (revocation-facts.ts). The real script's answers are covered against Redis in revocation.test.ts;
// here, what the reader does with an answer it did not expect: it fails the whole call (every
// check then falls back to MongoDB, or 503), never reads a malformed line as "not revoked".
import { describe, expect, it } from 'vitest';
import { parseReply } from './revocation-facts.js';

describe('revocation facts reply', () => {
  it('reads the epoch, each user mirror and the three flags of each check', () => {
    expect(parseReply('1\n3 active 000\n0 disabled 101\n  010', 3)).toEqual([
      { epoch: true, user: { tokenVersion: 3, status: 'active' }, denied: false, sessionRevoked: false, claimed: false },
      { epoch: true, user: { tokenVersion: 0, status: 'disabled' }, denied: true, sessionRevoked: false, claimed: true },
      { epoch: true, user: null, denied: false, sessionRevoked: true, claimed: false },
    ]);
    expect(parseReply('0\n7  111', 1)).toEqual([{ epoch: false, user: null, denied: true, sessionRevoked: true, claimed: true }]);
  });

  it.each([
    ['not a string', ['1', '2 active 000']],
    ['no answer', null],
    ['fewer lines than checks', '1\n2 active 000'],
    ['more lines than checks', '1\n2 active 000\n2 active 000\n2 active 000'],
    ['an epoch line that is not 0 or 1', 'yes\n2 active 000\n2 active 000'],
    ['a flag that is not 0 or 1', '1\n2 active 000\n2 active 0x0'],
    ['two flags', '1\n2 active 000\n2 active 00'],
    ['four flags', '1\n2 active 000\n2 active 0000'],
    ['a space inside the status', '1\n2 active 000\n2 act ive 000'],
    ['a missing field', '1\n2 active 000\n2 000'],
  ])('B1: fails the call on %s', (_case, reply) => {
    expect(() => parseReply(reply, 2)).toThrow('revocation facts: unexpected reply');
  });
});
