import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-ip.js';

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
