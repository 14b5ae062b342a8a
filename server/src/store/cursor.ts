import { AppError } from '../errors/index.js';

/**
 * Page cursors: the sort key of a page's last item — its id, and for lists in time order its
 * time — opaque to clients (base64url of `<ms>.<id>` or `<id>`). A cursor is client input: it is
 * decoded strictly, and anything else is a 400, never a query built from unchecked text.
 */
export function encodeCursor(id: string, time?: Date): string {
  return Buffer.from(time ? `${time.getTime()}.${id}` : id).toString('base64url');
}

/** Decodes a cursor `encodeCursor(id)` made. */
export function decodeIdCursor(cursor: string, minIdLength = 1): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!idPattern(minIdLength).test(id)) throw invalidCursor();
  return id;
}

/** Decodes a cursor `encodeCursor(id, time)` made. */
export function decodeTimeCursor(cursor: string, minIdLength = 1): { time: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  const ms = Number(time);
  if (!id || !Number.isSafeInteger(ms) || !idPattern(minIdLength).test(id)) throw invalidCursor();
  return { time: new Date(ms), id };
}

function idPattern(minLength: number): RegExp {
  return new RegExp(`^[A-Za-z0-9_-]{${minLength},64}$`);
}

function invalidCursor(): AppError {
  return new AppError('VALIDATION_FAILED', { issues: [{ path: 'cursor', message: 'Not a valid cursor.' }] });
}
