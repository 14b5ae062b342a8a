import Bowser from 'bowser';

/** "Chrome 156 on Linux" from a User-Agent header; never stores the raw header. */
export function describeDevice(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown device';
  try {
    const parsed = Bowser.parse(userAgent.slice(0, 512));
    const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
    const os = parsed.os.name;
    const summary = [browser || null, os ? `on ${os}` : null].filter(Boolean).join(' ');
    return summary.replace(/[^\p{L}\p{N} ._()-]/gu, '').slice(0, 80) || 'Unknown device';
  } catch {
    return 'Unknown device';
  }
}
