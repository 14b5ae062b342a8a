/** Display helpers for the popup (pure, so they are easy to test). */

/** `m:ss` left until `expiresAt`, never negative. */
export function formatCountdown(expiresAt: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

const KIND_LABELS: Record<string, string> = { browser: 'Browser', extension: 'Extension', api: 'API token' };

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** A short local date and time, or the raw value when it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
