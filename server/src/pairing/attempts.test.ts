import { describe, expect, it } from 'vitest';
import { addressKey } from './attempts.js';

describe('the per-address key of the pairing-code budget', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });

  it('puts every address of one /64 in one budget', () => {
    expect(new Set(['2001:db8:a:b::1', '2001:db8:a:b:ffff:ffff:ffff:ffff', '2001:DB8:A:B::42'].map(addressKey)).size).toBe(1);
  });
});
