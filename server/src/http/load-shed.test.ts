import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { loadShed } from './load-shed.js';
import type { AppContext } from './state.js';

const ctx = (path: string) => ({ path }) as AppContext;

describe('loadShed', () => {
  it('refuses with 503 OVERLOADED and Retry-After past the limit, exempts health checks, and recovers', async () => {
    const step = loadShed(2);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const busy = [step(ctx('/api/v1/me'), () => held), step(ctx('/api/v1/me'), () => held)];
    const refused = await step(ctx('/api/v1/me'), async () => 'ran').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('OVERLOADED');
    expect((refused as AppError).status).toBe(503);
    expect((refused as AppError).headers).toEqual({ 'Retry-After': '1' });
    expect(await step(ctx('/healthz'), async () => 'alive')).toBe('alive');
    release();
    await Promise.all(busy);
    expect(await step(ctx('/api/v1/me'), async () => 'ran')).toBe('ran');
  });

  it('counts a failed request out again, and 0 disables the limit', async () => {
    const step = loadShed(1);
    await expect(step(ctx('/x'), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await step(ctx('/x'), async () => 'ran')).toBe('ran');
    const off = loadShed(0);
    const held = new Promise<void>(() => undefined);
    void off(ctx('/x'), () => held);
    expect(await off(ctx('/x'), async () => 'ran')).toBe('ran');
  });
});
