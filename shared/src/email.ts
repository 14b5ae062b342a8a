/**
 * One canonical form for email addresses, applied at write and at lookup (docs/security-tests.md N5).
 * Zero-width and other invisible characters are removed, compatibility look-alikes are
 * folded (NFKC: fullwidth "ａ" → "a"), case is folded, and an internationalised domain is
 * stored in its ASCII (punycode) form so "bücher.example" and "xn--bcher-kva.example" match.
 * A local part that is still not plain ASCII after that is refused rather than guessed at.
 */
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
const LOCAL_PART = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

export function canonicalizeEmail(input: string): string | null {
  if (input.length > 320) return null;
  const folded = input.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase();
  const at = folded.lastIndexOf('@');
  if (at <= 0 || at === folded.length - 1) return null;
  const local = folded.slice(0, at);
  const domain = toAsciiDomain(folded.slice(at + 1));
  if (!domain || !LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.')) {
    return null;
  }
  return DOMAIN.test(domain) ? `${local}@${domain}` : null;
}

/** The domain part of a canonical address. */
export function emailDomain(canonicalEmail: string): string {
  return canonicalEmail.slice(canonicalEmail.lastIndexOf('@') + 1);
}

function toAsciiDomain(domain: string): string | null {
  if (!/^[^\s/?#@:[\]\\%]+$/u.test(domain)) return null;
  try {
    // The WHATWG URL parser applies UTS #46 (IDNA) mapping, available in Node and browsers.
    const host = new URL(`http://${domain}`).hostname;
    return host.endsWith('.') ? null : host;
  } catch {
    return null;
  }
}
