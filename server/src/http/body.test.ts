import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { mediaType } from './body.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('mediaType (docs/security-tests.md N4)', () => {
  it('is the type before its parameters, trimmed and lower-cased', () => {
    expect(mediaType(request({ 'content-type': 'application/json', 'content-length': '2' }))).toBe('application/json');
    expect(mediaType(request({ 'content-type': 'Application/JSON; charset=UTF-8', 'content-length': '2' }))).toBe('application/json');
    expect(
      mediaType(request({ 'content-type': ' application/x-www-form-urlencoded ;charset=utf-8', 'transfer-encoding': 'chunked' })),
    ).toBe('application/x-www-form-urlencoded');
  });

  it('never turns another type, a list of types or a suffix into an accepted one', () => {
    const of = (type: string) => mediaType(request({ 'content-type': type, 'content-length': '2' }));
    expect(of('application/json, text/plain')).not.toBe('application/json');
    expect(of('application/json-patch+json')).not.toBe('application/json');
    expect(of('application/jsonx')).not.toBe('application/json');
    expect(of('text/plain; x=application/json')).toBe('text/plain');
    expect(of('multipart/form-data; boundary=x')).toBe('multipart/form-data');
  });

  it('is undefined without a body or without a Content-Type, as type-is answers', () => {
    expect(mediaType(request({ 'content-type': 'application/json' }))).toBeUndefined();
    expect(mediaType(request({ 'content-type': 'application/json', 'content-length': 'x' }))).toBeUndefined();
    expect(mediaType(request({ 'content-length': '2' }))).toBeUndefined();
  });
});
