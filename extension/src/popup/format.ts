/** Display helpers for the popup (pure, so they are easy to test). */
import { SESSION_KIND_LABELS, sessionKindSchema } from '@gatehouse/shared';

/** `m:ss` left until `expiresAt`, never negative. */
export function formatCountdown(expiresAt: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function kindLabel(kind: string): string {
  const known = sessionKindSchema.safeParse(kind);
  return known.success ? SESSION_KIND_LABELS[known.data] : kind;
}

/** "2026-12-04 04:16 UTC", as the backend's pages write times; the raw value when it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
