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
