import { isIP } from 'node:net';

/**
 * The client address (docs/security-tests.md N10). With no trusted proxy the socket address is the
 * client. With N trusted proxies, each appended the address it saw to X-Forwarded-For, so the
 * client is the N-th entry from the right; anything further left was written by the client
 * itself and is ignored. A malformed entry falls back to the socket address.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string, trustedHops: number): string {
  const socket = normalize(socketAddress ?? '') ?? '0.0.0.0';
  if (trustedHops === 0 || !forwardedFor) return socket;
  const hops = forwardedFor.split(',').map((part) => part.trim());
  const candidate = hops[hops.length - trustedHops];
  // An empty entry ("a, ") is not an address either: `'' && …` would return '' here, not the socket.
  return (candidate ? normalize(candidate) : null) ?? socket;
}

function normalize(address: string): string | null {
  const bare = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(bare) ? bare : null;
}

/**
 * What the per-address rate limits (and the pairing-code budget) count by: an IPv4 address, or the /64 network of an IPv6 one.
 * A single IPv6 host is usually given a whole /64 and can rotate through it, so counting single
 * addresses would let it dodge every limit and fill the in-memory counters with one entry per
 * address (docs/security-model.md "Abuse").
 */
export function rateLimitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return mapped;
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = (address.split('%')[0] ?? '').toLowerCase().split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : [];
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
