import { extensionRequestSchema, parseExtensionResponse } from '@gatehouse/shared';
import { describe, expect, it, vi } from 'vitest';
import { ExtensionError } from '../errors.js';
import { type Handlers, routeMessage } from './router.js';
import { isTrustedSender } from './sender.js';

const ID = 'abcdefghijklmnopabcdefghijklmnop';
const BASE = `chrome-extension://${ID}/`;
const context = { extensionId: ID, extensionBaseUrl: BASE };
const popup = { id: ID, url: `${BASE}popup.html`, origin: `chrome-extension://${ID}` };

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  const fail = () => Promise.reject(new Error('not expected'));
  return {
    'state.get': vi.fn(async () => ({ state: 'not-configured' as const, backend: null, pairing: null, notice: null })),
    'backend.set': fail,
    'backend.disconnect': fail,
    'pairing.start': fail,
    'pairing.cancel': fail,
    'account.get': fail,
    'session.revoke': fail,
    'sessions.revokeOthers': fail,
    ...overrides,
  };
}

describe('extension request schema', () => {
  it('accepts each known request and nothing more', () => {
    expect(extensionRequestSchema.safeParse({ type: 'state.get' }).success).toBe(true);
    expect(extensionRequestSchema.safeParse({ type: 'session.revoke', sessionId: 's1' }).success).toBe(true);
    expect(extensionRequestSchema.safeParse({ type: 'session.revoke' }).success).toBe(false);
    expect(extensionRequestSchema.safeParse({ type: 'session.revoke', sessionId: '' }).success).toBe(false);
    expect(extensionRequestSchema.safeParse({ type: 'state.get', extra: 1 }).success).toBe(false);
    expect(extensionRequestSchema.safeParse({ type: 'tokens.dump' }).success).toBe(false);
    expect(extensionRequestSchema.safeParse('state.get').success).toBe(false);
  });

  it('parses answers per request type and refuses the wrong shape', () => {
    expect(parseExtensionResponse('sessions.revokeOthers', { ok: true, result: { revoked: 2 } })).toEqual({
      ok: true,
      result: { revoked: 2 },
    });
    expect(parseExtensionResponse('sessions.revokeOthers', { ok: true, result: { revoked: -1 } })).toMatchObject({
      ok: false,
      code: 'BAD_RESPONSE',
    });
    expect(parseExtensionResponse('state.get', undefined)).toMatchObject({ ok: false, code: 'BAD_RESPONSE' });
    expect(parseExtensionResponse('state.get', { ok: false, code: 'NOT_PAIRED', message: 'm' })).toEqual({
      ok: false,
      code: 'NOT_PAIRED',
      message: 'm',
    });
  });
});

describe('isTrustedSender', () => {
  it('trusts our own pages, in the popup or in a tab', () => {
    expect(isTrustedSender(popup, ID, BASE)).toBe(true);
    expect(isTrustedSender({ id: ID, url: `${BASE}options.html` }, ID, BASE)).toBe(true);
  });

  it.each([
    ['another extension', { id: 'other', url: `chrome-extension://other/popup.html` }],
    ['a content script in a web page', { id: ID, url: 'https://evil.example/', origin: 'https://evil.example' }],
    ['a sender without url', { id: ID }],
    ['a page that only claims our url prefix', { id: ID, url: `${BASE}popup.html`, origin: 'https://evil.example' }],
    ['a look-alike extension url', { id: ID, url: `chrome-extension://${ID}.evil.example/popup.html` }],
  ])('refuses %s', (_name, sender) => {
    expect(isTrustedSender(sender, ID, BASE)).toBe(false);
  });
});

describe('routeMessage', () => {
  it('answers trusted senders with the handler result', async () => {
    const all = handlers();
    await expect(routeMessage({ type: 'state.get' }, popup, all, context)).resolves.toEqual({
      ok: true,
      result: { state: 'not-configured', backend: null, pairing: null, notice: null },
    });
    expect(all['state.get']).toHaveBeenCalledOnce();
  });

  it('does not answer, nor run anything, for untrusted senders', async () => {
    const all = handlers();
    await expect(routeMessage({ type: 'state.get' }, { id: ID, url: 'https://evil.example/' }, all, context)).resolves.toBeUndefined();
    expect(all['state.get']).not.toHaveBeenCalled();
  });

  it('refuses malformed messages', async () => {
    await expect(routeMessage({ type: 'session.revoke', sessionId: 42 }, popup, handlers(), context)).resolves.toMatchObject({
      ok: false,
      code: 'BAD_REQUEST',
    });
  });

  it('turns a failure into a sentence with the error code', async () => {
    const all = handlers({ 'account.get': () => Promise.reject(new ExtensionError('PAIRING_ENDED')) });
    const answer = await routeMessage({ type: 'account.get' }, popup, all, context);
    expect(answer).toMatchObject({ ok: false, code: 'PAIRING_ENDED' });
    expect(answer?.ok === false && answer.message).toMatch(/Pair this browser/);
  });

  it('does not leak internal error text', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const all = handlers({ 'account.get': () => Promise.reject(new Error('secret internal detail')) });
    const answer = await routeMessage({ type: 'account.get' }, popup, all, context);
    expect(answer).toMatchObject({ ok: false, code: 'UNEXPECTED' });
    expect(JSON.stringify(answer)).not.toContain('secret');
  });
});
