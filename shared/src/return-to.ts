/**
 * Decides whether a `return_to` value is a same-origin path we may redirect to after sign-in
 * (docs/security-tests.md N7). Only an absolute path on this origin is accepted: "/account?x=1".
 * Refused: scheme-relative ("//evil"), backslash tricks ("/\\evil"), schemes ("https:evil",
 * "javascript:"), encoded variants of those, control characters and anything over 512 chars.
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) return null;
  let decoded = value;
  // Decode repeatedly so that "%2F%2Fevil" and "%252F%252Fevil" are judged as "//evil".
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(decoded);
      if (next === decoded) break;
      decoded = next;
    } catch {
      return null;
    }
  }
  for (const candidate of [value, decoded]) {
    if (!candidate.startsWith('/') || candidate.startsWith('//')) return null;
    if (/[\\\u0000-\u001F\u007F]/.test(candidate)) return null;
  }
  // Resolve against a throw-away origin: if the result leaves it, the value was not a path.
  const base = 'https://gatehouse.invalid';
  const resolved = new URL(value, base);
  if (resolved.origin !== base) return null;
  // Dot segments collapse while resolving ("/.//evil" → "//evil"): judge the result again.
  const path = resolved.pathname + resolved.search + resolved.hash;
  return path.startsWith('//') || path.startsWith('/\\') ? null : path;
}
