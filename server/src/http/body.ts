import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors/index.js';

/**
 * Whether a request body is sent as is (`Content-Encoding` absent or `identity`). Compressed bodies
 * are refused with 415 (RFC 9110 §15.5.16 allows it): no client of ours sends them, and a corrupt
 * gzip stream would otherwise surface as a zlib error, i.e. a 500.
 */
export function uncompressedBody(req: IncomingMessage): boolean {
  return (req.headers['content-encoding'] || 'identity').toLowerCase() === 'identity';
}

/**
 * The request body's media type (RFC 9110 §8.3.1): the Content-Type before its parameters, trimmed
 * and lower-cased; undefined when the request has no body (neither Content-Length nor
 * Transfer-Encoding) or no Content-Type. What `ctx.is(type)` (type-is) answers for one exact type,
 * without its two header parsers and mime lookup: about 2 µs of every bearer check in the V8 profile
 * (docs/benchmarks.md, "What each change bought").
 */
export function mediaType(req: IncomingMessage): string | undefined {
  const { 'content-type': header, 'content-length': length, 'transfer-encoding': chunked } = req.headers;
  if (header === undefined || (chunked === undefined && (length === undefined || Number.isNaN(Number(length))))) return undefined;
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Reads a request body as UTF-8 text, at most `limit` bytes: 413 PAYLOAD_TOO_LARGE as soon as it is
 * known to be larger (from Content-Length, or while reading). Invalid UTF-8 becomes U+FFFD and a
 * leading byte-order mark is dropped, as co-body did. Node's parser already holds a body to its
 * Content-Length or chunked framing; a connection lost mid-body rejects (400).
 *
 * Written here instead of co-body (inflation, raw-body, an iconv-lite decoder, five listeners):
 * that cost 8–10 µs more on every POST, a tenth of the bearer check (docs/benchmarks.md, "What
 * each change bought"). Compressed bodies are refused before this is called
 * (`uncompressedBody`).
 */
export function readText(req: IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length']) > limit) return Promise.reject(new AppError('PAYLOAD_TOO_LARGE'));
  // A second read would wait for an 'end' that already happened.
  if (req.readableEnded || req.destroyed) return Promise.reject(new Error('the request body was already read'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onLost);
      req.off('close', onLost);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      // Stop taking bytes; Node closes the connection after the 413 instead of reading the rest.
      req.pause();
      reject(new AppError('PAYLOAD_TOO_LARGE'));
    };
    const onEnd = () => {
      stop();
      resolve(decode(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    };
    const onLost = (cause?: unknown) => {
      stop();
      reject(new AppError('VALIDATION_FAILED', { cause: cause instanceof Error ? cause : new Error('request body cut short') }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onLost);
    req.on('close', onLost);
  });
}

function decode(body: Buffer): string {
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
