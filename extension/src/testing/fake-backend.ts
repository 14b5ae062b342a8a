import { vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { deleteKeyPair } from '../crypto/key-store.js';
import { forgetDpopHandle } from '../oauth/client.js';
import { backendStore } from '../state/items.js';

/**
 * A scripted stand-in for the backend's HTTP answers, for unit tests only (the real server is
 * exercised by the server's own tests and the e2e suite). It installs itself as `fetch`,
 * records every request, and answers from per-route queues of responses.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: URLSearchParams;
}

type Responder = (request: RecordedRequest) => Response | Promise<Response>;

export const ORIGIN = 'http://localhost:3000';

export const METADATA = {
  issuer: ORIGIN,
  device_authorization_endpoint: `${ORIGIN}/oauth/device_authorization`,
  token_endpoint: `${ORIGIN}/oauth/token`,
  revocation_endpoint: `${ORIGIN}/oauth/revoke`,
  jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
  grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  dpop_signing_alg_values_supported: ['ES256'],
  token_endpoint_auth_methods_supported: ['none'],
};

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function tokenResponse(access: string, refresh: string, expiresIn = 300): Response {
  return json({ access_token: access, token_type: 'DPoP', expires_in: expiresIn, refresh_token: refresh, scope: 'profile:read' });
}

export function fakeBackend() {
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Responder[]>();
  const fallback = new Map<string, Responder>();

  const key = (method: string, path: string) => `${method} ${path}`;
  const server = {
    requests,
    /** Queue one answer for `METHOD /path` (queued answers are used once, in order). */
    once(method: string, path: string, responder: Responder) {
      const queue = routes.get(key(method, path)) ?? [];
      queue.push(responder);
      routes.set(key(method, path), queue);
      return server;
    },
    /** The answer for `METHOD /path` once its queue is empty. */
    always(method: string, path: string, responder: Responder) {
      fallback.set(key(method, path), responder);
      return server;
    },
    to(path: string) {
      return requests.filter((request) => new URL(request.url).pathname === path);
    },
  };

  vi.stubGlobal('fetch', async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body instanceof URLSearchParams ? init.body : new URLSearchParams(typeof init.body === 'string' ? init.body : '');
    const request: RecordedRequest = { method, url, headers: new Headers(init.headers), body };
    requests.push(request);
    const path = new URL(url).pathname;
    const responder = routes.get(key(method, path))?.shift() ?? fallback.get(key(method, path));
    if (!responder) throw new TypeError(`fetch failed: no fake answer for ${method} ${path}`);
    return responder(request);
  });
  return server;
}

/** The decoded payload of the DPoP proof a request carried. */
export function dpopPayload(request: RecordedRequest): Record<string, unknown> {
  const proof = request.headers.get('dpop');
  if (!proof) throw new Error(`no DPoP proof on ${request.method} ${request.url}`);
  const [, payload = ''] = proof.split('.');
  return JSON.parse(atob(payload.replaceAll('-', '+').replaceAll('_', '/'))) as Record<string, unknown>;
}

/** A fresh extension (fake browser storage, no key, no DPoP handle) configured for ORIGIN. */
export async function configuredExtension(): Promise<void> {
  fakeBrowser.reset();
  await deleteKeyPair();
  forgetDpopHandle();
  await backendStore.set({ origin: ORIGIN, metadata: METADATA });
}
