import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { requireSameOrigin } from './origin.js';
import type { AppContext } from './state.js';

const PUBLIC = 'https://app.example';

/** Runs the step on a request with these headers; true when it let the request through. */
async function passes(method: string, headers: Record<string, string>): Promise<boolean> {
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const ctx = { method, get: (name: string) => lower[name.toLowerCase()] ?? '' } as unknown as AppContext;
  let reached = false;
  try {
    await requireSameOrigin(PUBLIC)(ctx, async () => {
      reached = true;
    });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('ORIGIN_REJECTED');
  }
  return reached;
}

describe('requireSameOrigin (docs/security-tests.md C1–C5)', () => {
  it('lets safe methods through without any header', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(await passes(method, {})).toBe(true);
  });

  it('accepts exactly our origin, or a Referer on our origin when Origin is absent (C4)', async () => {
    expect(await passes('POST', { Origin: PUBLIC })).toBe(true);
    expect(await passes('POST', { Referer: `${PUBLIC}/account?x=1#y` })).toBe(true);
    expect(await passes('DELETE', { Referer: `${PUBLIC}/` })).toBe(true);
  });

  it('refuses `Origin: null` (C2) and a request with neither header (C3)', async () => {
    expect(await passes('POST', { Origin: 'null' })).toBe(false);
    expect(await passes('POST', { Origin: 'null', Referer: `${PUBLIC}/account` })).toBe(false);
    expect(await passes('POST', {})).toBe(false);
    expect(await passes('PUT', {})).toBe(false);
  });

  it.each([
    ['https://app.example.evil.com'],
    ['https://evil.com/https://app.example'],
    ['https://app.example@evil.com'],
    ['https://app.example:8443'],
    ['http://app.example'],
    ['https://app.example.'],
    ['https://APP.example'],
    ['https://app.example/'],
    ['https://xn--app-example'],
    ['https://app.example, https://evil.example'],
    ['https://evil.example'],
  ])('C5 refuses the look-alike Origin %s', async (origin) => {
    expect(await passes('POST', { Origin: origin })).toBe(false);
    // A wrong Origin is never rescued by a good Referer.
    expect(await passes('POST', { Origin: origin, Referer: `${PUBLIC}/account` })).toBe(false);
  });

  it.each([
    ['https://app.example.evil.com/account'],
    ['https://evil.com/https://app.example'],
    ['https://app.example@evil.com/'],
    ['https://app.example:8443/account'],
    ['http://app.example/account'],
    ['https://app.example./account'],
    ['//app.example/account'],
    ['/account'],
    ['not a url'],
  ])('C5 refuses the look-alike Referer %s without Origin', async (referer) => {
    expect(await passes('POST', { Referer: referer })).toBe(false);
  });
});
