import { describe, expect, it } from 'vitest';
import { hostPermissionPattern, isLocalHttp, validateBackendUrl } from './url.js';

describe('validateBackendUrl', () => {
  it.each([
    ['https://gatehouse.example.com', 'https://gatehouse.example.com', false],
    ['https://gatehouse.example.com/', 'https://gatehouse.example.com', false],
    ['https://gatehouse.example.com:8443', 'https://gatehouse.example.com:8443', false],
    ['http://localhost:3000', 'http://localhost:3000', true],
    ['http://127.0.0.1:3000/', 'http://127.0.0.1:3000', true],
    ['https://localhost', 'https://localhost', false],
  ])('accepts %s as %s', (input, origin, local) => {
    expect(validateBackendUrl(input)).toEqual({ ok: true, origin, local });
  });

  it.each([
    ['', 'Enter the address'],
    [' https://gatehouse.example.com', 'spaces'],
    ['https://gatehouse.example.com\n', 'spaces'],
    ['https://gate house.example.com', 'spaces'],
    ['gatehouse.example.com', 'not a valid web address'],
    ['http://gatehouse.example.com', 'https://'],
    ['http://192.168.1.10:3000', 'https://'],
    ['http://[::1]:3000', 'https://'],
    ['ftp://gatehouse.example.com', 'https://'],
    ['javascript:alert(1)', 'https://'],
    ['https://user:pass@gatehouse.example.com', 'user name or password'],
    ['https://user@gatehouse.example.com', 'user name or password'],
    ['https://gatehouse.example.com/api', 'without a path'],
    ['https://gatehouse.example.com/?', 'without a path'],
    ['https://gatehouse.example.com?x=1', 'without a path'],
    ['https://gatehouse.example.com/#top', 'without a path'],
    ['https://gatehouse.example.com#', 'without a path'],
    [`https://${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`, 'too long'],
    ['HTTPS://Gatehouse.Example.com', 'exactly as https://gatehouse.example.com'],
    ['https://gatehouse.example.com:443', 'exactly as https://gatehouse.example.com'],
    ['https://bücher.example', 'exactly as https://xn--bcher-kva.example'],
    ['https://gatehouse.example.com/.', 'exactly as'],
  ])('refuses %j', (input, reason) => {
    const result = validateBackendUrl(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('accepts a host of exactly 253 characters', () => {
    const host = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(host).toHaveLength(253);
    expect(validateBackendUrl(`https://${host}`).ok).toBe(true);
  });
});

describe('hostPermissionPattern and isLocalHttp', () => {
  it('grants the host, not the port', () => {
    expect(hostPermissionPattern('http://localhost:3000')).toBe('http://localhost/*');
    expect(hostPermissionPattern('https://gatehouse.example.com:8443')).toBe('https://gatehouse.example.com/*');
  });

  it('allows plain http only to local hosts', () => {
    expect(isLocalHttp('http://localhost:3000')).toBe(true);
    expect(isLocalHttp('http://127.0.0.1')).toBe(true);
    expect(isLocalHttp('https://localhost')).toBe(false);
    expect(isLocalHttp('http://gatehouse.example.com')).toBe(false);
  });
});
