import { KnownSecrets, safeEqual } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { Step } from '../http/index.js';

export interface ResourceServer {
  id: string;
  secret: string;
}

/**
 * HTTP Basic authentication of a configured resource server (RFC 6749 §2.3.1), compared in
 * constant time. A resource server sends the same header on every bearer check, so the header each
 * configured server sends in the usual form (id and secret as they are, base64 with padding) is
 * kept and matched in one constant-time pass (`KnownSecrets`); any other spelling (percent-encoded,
 * unpadded) is decoded and compared field by field. Together these took the check from 19 µs of a
 * 107 µs bearer check to a few (docs/benchmarks.md, "What each change bought"); what the shortcut
 * accepts, the field-by-field compare accepts too.
 */
export function authenticateResourceServer(servers: readonly ResourceServer[]): Step {
  const usual = new KnownSecrets(servers.map(({ id, secret }) => basicHeader(formEncode(id), formEncode(secret))));
  // Not async: nothing runs after next(), and a throw here reaches Koa as a rejection (koa-compose).
  return (ctx, next) => {
    const header = ctx.get('authorization');
    const ok = usual.has(header) || decodedMatch(header, servers);
    if (!ok) throw new AppError('INVALID_CLIENT', { headers: { 'WWW-Authenticate': 'Basic realm="gatehouse"' } });
    return next();
  };
}

/** The header as a client builds it: RFC 6749 §2.3.1 form-encodes id and secret before Basic. */
function basicHeader(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;
}

/** application/x-www-form-urlencoded as RFC 6749 appendix B names it (space as `+`). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replaceAll('%20', '+');
}

function decodedMatch(header: string, servers: readonly ResourceServer[]): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header);
  const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  const server = colon > 0 ? servers.find((candidate) => candidate.id === id) : undefined;
  // Compare even when the id is unknown, so timing doesn't tell which ids exist.
  return safeEqual(secret ?? '', server?.secret ?? '\u0000no-such-server') && server !== undefined;
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return null;
  }
}
