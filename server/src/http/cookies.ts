import type { AppContext } from './state.js';

/** The session cookie. `__Host-` pins it to our origin: Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-gatehouse';
/** Binds a started sign-in to the browser that started it (login CSRF, docs/security-tests.md O16). */
export const LOGIN_COOKIE = '__Host-gatehouse-login';
/** The invitation a browser follows (its link's token) until it signs in (docs/invitations.md). */
export const INVITE_COOKIE = '__Host-gatehouse-invite';
/** An admin's read-only support view as another person (docs/impersonation.md). */
export const IMPERSONATION_COOKIE = '__Host-gatehouse-impersonation';

/**
 * Writes a `__Host-` cookie: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain (docs/security-tests.md C8).
 * Written by hand because Koa refuses Secure cookies on plain-http localhost, where browsers
 * accept them.
 */
export function setHostCookie(ctx: AppContext, name: string, value: string, maxAgeSeconds: number): void {
  const attributes = [
    `${name}=${value}`,
    'Path=/',
    'Secure',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  ctx.append('Set-Cookie', attributes.join('; '));
}

export function clearHostCookie(ctx: AppContext, name: string): void {
  setHostCookie(ctx, name, '', 0);
}

/** Reads a cookie value, refusing anything but the url-safe characters our values use. */
export function readCookie(ctx: AppContext, name: string): string | null {
  const header = ctx.get('cookie');
  if (!header) return null;
  let found: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // Two cookies of the same name: refuse both rather than pick one an attacker planted.
    if (found !== null) return null;
    found = /^[A-Za-z0-9._-]{1,4096}$/.test(value) ? value : '';
  }
  return found || null;
}
