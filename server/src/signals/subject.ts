import { emailSchema } from '@gatehouse/shared';
import type { JWTPayload } from 'jose';
import { isObject, SetRejected } from './set-token.js';

/** Whom a SET is about, in the forms Gatehouse can look up. */
export type Subject =
  | { format: 'iss_sub'; iss: string; sub: string }
  | { format: 'email'; email: string }
  /** A format we don't resolve (opaque, phone, did, …) or a malformed email: acknowledged, ignored. */
  | { format: 'unsupported'; name: string };

/**
 * Finds the subject of a SET: the SSF `sub_id` claim, else the `subject` member of the event
 * (CAEP/RISC before SSF 1.0, e.g. Google's RISC with `subject_type`), else a top-level `sub`
 * (RFC 8417; read as an `iss_sub` subject of the SET's issuer). A SET with none of them is
 * refused: there is nothing to act on, and it is malformed for every event we know.
 * A `complex` subject is resolved through its `user` member; sessions, devices and tenants in
 * it are not narrowed down (a session-revoked event ends all the user's browser sessions).
 */
export function readSubject(payload: JWTPayload, event: Record<string, unknown>): Subject {
  if (payload.sub_id !== undefined) return parseSubjectId(payload.sub_id, 0);
  if (event.subject !== undefined) return parseSubjectId(event.subject, 0);
  if (typeof payload.sub === 'string' && typeof payload.iss === 'string') return iss_sub(payload.iss, payload.sub);
  throw new SetRejected('invalid_request', 'no_subject');
}

function parseSubjectId(value: unknown, depth: number): Subject {
  if (!isObject(value)) throw new SetRejected('invalid_request', 'subject');
  const rawFormat = value.format ?? value.subject_type;
  if (typeof rawFormat !== 'string') throw new SetRejected('invalid_request', 'subject');
  const format = rawFormat.replace('-', '_');
  if (format === 'iss_sub') return iss_sub(value.iss, value.sub);
  if (format === 'email') {
    const parsed = emailSchema.safeParse(value.email);
    return parsed.success ? { format: 'email', email: parsed.data } : { format: 'unsupported', name: 'email_invalid' };
  }
  if (format === 'complex' && depth === 0) {
    if (value.user === undefined) return { format: 'unsupported', name: 'complex_without_user' };
    return parseSubjectId(value.user, depth + 1);
  }
  return { format: 'unsupported', name: format.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32) || 'unnamed' };
}

function iss_sub(iss: unknown, sub: unknown): Subject {
  const bounded = (text: unknown) => typeof text === 'string' && text.length > 0 && text.length <= 512;
  if (!bounded(iss) || !bounded(sub)) throw new SetRejected('invalid_request', 'subject');
  return { format: 'iss_sub', iss: iss as string, sub: sub as string };
}
