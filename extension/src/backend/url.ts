/**
 * Which backend addresses the extension accepts. The address becomes an origin that receives
 * the refresh token and DPoP proofs, so anything ambiguous is refused rather than "fixed".
 */

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);
const MAX_HOST_LENGTH = 253;

export type BackendUrlResult =
  | { ok: true; origin: string /** plain http to a local backend (development and tests) */; local: boolean }
  | { ok: false; reason: string };

/** Validates what a person typed as the backend address; the result's `origin` is what we store. */
export function validateBackendUrl(input: string): BackendUrlResult {
  if (input === '') return refuse('Enter the address of your Gatehouse backend, for example https://gatehouse.example.com.');
  if (/\s/.test(input)) return refuse('The address contains spaces or line breaks. Remove them and try again.');
  const url = parseUrl(input);
  if (!url) return refuse('This is not a valid web address. Write it like https://gatehouse.example.com.');
  const local = LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    return refuse('The address must start with https:// (plain http is allowed only for localhost and 127.0.0.1).');
  }
  if (url.username !== '' || url.password !== '') return refuse('The address must not contain a user name or password.');
  if (url.hostname.length > MAX_HOST_LENGTH) return refuse('The host name is too long.');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(input)) {
    return refuse('Enter only the scheme and host (and port), without a path, query or fragment.');
  }
  // What was typed must be what the browser would send: no case folding, default ports,
  // IDN conversion or dot segments applied behind the person's back.
  if (input !== url.origin && input !== `${url.origin}/`) {
    return refuse(`Write the address exactly as ${url.origin}.`);
  }
  return { ok: true, origin: url.origin, local: url.protocol === 'http:' };
}

/** The host permission pattern for an origin (match patterns carry no port: the host is what is granted). */
export function hostPermissionPattern(origin: string): string {
  const url = new URL(origin);
  return `${url.protocol}//${url.hostname}/*`;
}

/** Whether requests to this origin may use plain http (only local backends). */
export function isLocalHttp(origin: string): boolean {
  const url = parseUrl(origin);
  return url !== null && url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
}

function refuse(reason: string): BackendUrlResult {
  return { ok: false, reason };
}

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}
