import { describe, expect, it } from 'vitest';
import { clientAddress, rateLimitKey } from './client-ip.js';

describe('clientAddress (docs/security-tests.md N10)', () => {
  it('without trusted proxies, is the socket address whatever X-Forwarded-For says', () => {
    expect(clientAddress('10.0.0.1', '', 0)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7', 0)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7, 198.51.100.1', 0)).toBe('10.0.0.1');
  });

  it('normalises an IPv4-mapped socket address', () => {
    expect(clientAddress('::ffff:127.0.0.1', '', 0)).toBe('127.0.0.1');
    expect(clientAddress('::1', '', 0)).toBe('::1');
  });

  it('with N trusted proxies, takes the N-th entry from the right, never the left-most', () => {
    expect(clientAddress('10.0.0.1', '203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '1.1.1.1, 203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '1.1.1.1,203.0.113.7 , 198.51.100.1', 2)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '2001:db8::1', 1)).toBe('2001:db8::1');
  });

  it('falls back to the socket when the trusted entry is missing or not an address', () => {
    expect(clientAddress('10.0.0.1', '203.0.113.7', 2)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7, not-an-ip', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7, ', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7\r\nX-Evil: 1', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '203.0.113.7:8080', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '[2001:db8::1]', 1)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '999.1.1.1', 1)).toBe('10.0.0.1');
  });

  it('never returns anything but an IP address', () => {
    expect(clientAddress(undefined, '', 0)).toBe('0.0.0.0');
    expect(clientAddress('garbage', 'also garbage', 1)).toBe('0.0.0.0');
  });
});

describe('rateLimitKey (docs/security-tests.md N10)', () => {
  it('counts an IPv4 address by itself, mapped or not', () => {
    expect(rateLimitKey('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const forms = [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:0000:0000:0000:0001',
      '2001:DB8:1:2:ffff:ffff:ffff:ffff',
      '2001:db8:1:2::1.2.3.4',
    ];
    for (const form of forms) expect(rateLimitKey(form), form).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(rateLimitKey('2001:db8:1:2:3:4::')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(new Set(['2001:db8:a:b::1', '2001:db8:a:b:ffff:ffff:ffff:ffff', '2001:DB8:A:B::42'].map(rateLimitKey)).size).toBe(1);
  });
});
