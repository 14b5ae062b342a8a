// docs/security-tests.md N3 (oversized, deeply nested and slow bodies) and N4 (malformed JSON, wrong
// content type). The slow-upload cases run the app behind the same HTTP server main.ts runs
// (createHttpServer, with its request and header timeouts) on a real socket.
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TEST_FIRST_RUN_PASSWORD, type TestApp } from '../../test/harness.js';
import { csrfTokenOf, expectProblem, expectStillServing, SecretWatch, sessionAlive, signedInApp } from '../../test/http-checks.js';
import { ALICE, signIn } from '../../test/sign-in.js';
import { createHttpServer, SERVER_TIMEOUTS } from './index.js';

const watch = new SecretWatch();
afterAll(() => watch.closeAll());

const BOOTSTRAP = `Bootstrap ${TEST_FIRST_RUN_PASSWORD}`;
const LIMIT = 1024;

/** Sends the body byte for byte: no superagent serialiser, no default content type. */
function postSetup(t: TestApp, contentType: string | null, body: string | Buffer) {
  const request = t.http.post('/api/v1/setup').set('Authorization', BOOTSTRAP);
  if (contentType) request.set('Content-Type', contentType);
  return request.serialize((data) => data).send(Buffer.isBuffer(body) ? body : Buffer.from(body));
}

async function expectNoOwner(t: TestApp) {
  expect(await t.db.collection('users').countDocuments({ roles: 'owner' })).toBe(0);
  expect(await t.db.collection('system').countDocuments({})).toBe(0);
}

/** Starts the app behind the production HTTP server on a free loopback port. */
async function listen(t: TestApp): Promise<{ server: Server; port: number }> {
  const server = createHttpServer(t.callback);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * Opens a raw connection, writes `head`, then keeps writing one byte every `everyMs` without
 * ever finishing. Resolves when the server closes the connection, with what it answered.
 */
function trickle(port: number, head: string, everyMs: number): Promise<{ answer: string; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => socket.writable && socket.write(head.includes('\r\n\r\n') ? ' ' : 'a'), everyMs);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, socket });
    });
  });
}

describe('N3 oversized and deeply nested bodies', () => {
  let t: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    t = watch.track(await createTestApp({ BODY_LIMIT_BYTES: String(LIMIT) }));
    alice = (await signIn(t, ALICE)).sessionCookie;
    csrf = await csrfTokenOf(t, alice);
    watch.add('session cookie', alice);
    watch.add('csrf token', csrf);
  });

  it('N3 a JSON body over BODY_LIMIT_BYTES is refused with 413 PAYLOAD_TOO_LARGE and no write', async () => {
    const body = JSON.stringify({ email: 'owner@example.com', name: 'x'.repeat(LIMIT * 2) });
    expectProblem(await postSetup(t, 'application/json', body), 413, 'PAYLOAD_TOO_LARGE');
    await expectNoOwner(t);
    await expectStillServing(t);
  });

  it('N3 a form body over the limit is refused with 413 by the setup form and the sign-out form', async () => {
    const padding = `&pad=${'x'.repeat(LIMIT * 2)}`;
    const setup = await t.http
      .post('/setup')
      .set('Origin', t.config.publicOrigin)
      .set('Accept', 'application/json')
      .type('form')
      .send(`email=owner%40example.com&password=x${padding}`);
    expectProblem(setup, 413, 'PAYLOAD_TOO_LARGE');
    const logout = await t.http
      .post('/auth/logout')
      .set('Cookie', alice)
      .set('Origin', t.config.publicOrigin)
      .set('Accept', 'application/json')
      .type('form')
      .send(`csrf=${csrf}${padding}`);
    expectProblem(logout, 413, 'PAYLOAD_TOO_LARGE');
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it.each([
    [
      'a gzip "zip bomb" (5 MB of spaces)',
      'gzip',
      gzipSync(Buffer.from(`{"email":"owner@example.com","name":"${' '.repeat(5_000_000)}"}`)),
    ],
    ['a corrupt gzip stream', 'gzip', Buffer.from('{"email":"owner@example.com"}')],
    ['deflate', 'deflate', Buffer.from('{"email":"owner@example.com"}')],
    ['an unknown coding', 'x-evil', Buffer.from('{"email":"owner@example.com"}')],
  ])('N3 a compressed body (%s) is refused with 415 before anything is inflated', async (_, coding, body) => {
    expect(body.length).toBeLessThan(LIMIT * 8);
    const response = await postSetup(t, 'application/json', body).set('Content-Encoding', coding);
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNoOwner(t);
    await expectStillServing(t);
  });

  it('N3 a chunked body without Content-Length is cut at the limit: 413 before the client ever finishes', async () => {
    const { server, port } = await listen(t);
    try {
      const answer = await new Promise<{ status: number; body: string; sentBytes: number }>((resolve, reject) => {
        let sentBytes = 0;
        const request = httpRequest(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/api/v1/setup',
            headers: { 'Content-Type': 'application/json', Authorization: BOOTSTRAP },
          },
          (response) => {
            let body = '';
            response.on('data', (chunk) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body, sentBytes }));
          },
        );
        request.on('error', reject);
        // Keeps sending up to 64 MiB and never calls end(): only a server that stops reading
        // at the limit answers at all.
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        const pump = () => {
          while (sentBytes < 64 * 1024 * 1024 && request.write(chunk)) sentBytes += chunk.length;
        };
        request.on('drain', pump);
        request.write('{"email":"owner@example.com","name":"');
        pump();
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
    await expectNoOwner(t);
  });

  it('N3 a body that arrives in pieces, with a pause between them, is read whole; one cut short writes nothing', async () => {
    const fresh = watch.track(await createTestApp());
    const { server, port } = await listen(fresh);
    const body = JSON.stringify({ email: 'owner@example.com', name: 'Owner' });
    const head = (length: number) =>
      'POST /api/v1/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Authorization: ${BOOTSTRAP}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    /** Writes the head and the first part, waits, then the rest (or hangs up); resolves with the answer. */
    const send = (first: string, rest: string | null) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(answer));
        socket.on('connect', () => {
          socket.write(head(Buffer.byteLength(body)) + first);
          setTimeout(() => (rest === null ? socket.destroy() : socket.write(rest)), 100);
        });
      });
    try {
      const cut = body.length - 10;
      expect(await send(body.slice(0, cut), null)).toBe('');
      await expectNoOwner(fresh);
      await expectStillServing(fresh);
      const whole = await send(body.slice(0, cut), body.slice(cut));
      expect(whole).toMatch(/^HTTP\/1\.1 2\d\d/);
      expect(await fresh.db.collection('users').countDocuments({ roles: 'owner' })).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it.each([
    ['5,000 nested arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['5,000 nested objects under email', `{"email":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`],
    ['5,000 nested objects under an unknown key', `{"email":"owner@example.com","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`],
  ])('N3 deeply nested JSON (%s) within the size limit is refused with 400 and no write', async (_, body) => {
    const deep = watch.track(await createTestApp());
    expect(Buffer.byteLength(body)).toBeLessThan(deep.config.BODY_LIMIT_BYTES);
    const response = await postSetup(deep, 'application/json', body);
    // Either the parser gives up (MALFORMED_JSON) or the schema refuses the shape: both are 400.
    expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(response.body.code);
    expectProblem(response, 400, response.body.code);
    await expectNoOwner(deep);
    await expectStillServing(deep);
  });

  it('N3 200,000 levels of nesting (beyond any recursion depth) with a 1 MiB limit: 400, process up', async () => {
    const deep = watch.track(await createTestApp({ BODY_LIMIT_BYTES: String(1024 * 1024) }));
    const body = `{"email":"owner@example.com","x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const response = await postSetup(deep, 'application/json', body);
    expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(response.body.code);
    expectProblem(response, 400, response.body.code);
    await expectNoOwner(deep);
    await expectStillServing(deep);
  });
});

describe('N3 slow uploads against the production HTTP server', () => {
  it(
    'N3 bodies and headers that never finish are cut off (408 or closed) by the request timeout; nothing is held',
    async () => {
      const t = watch.track(await createTestApp());
      const { server, port } = await listen(t);
      try {
        const heapBefore = process.memoryUsage().heapUsed;
        const started = Date.now();
        const slowBody =
          'POST /api/v1/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Authorization: ${BOOTSTRAP}\r\nContent-Length: 10000\r\n\r\n{"email":"owner@example.com","name":"`;
        const slowHeaders = 'GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
        const connections = [
          ...Array.from({ length: 10 }, () => trickle(port, slowBody, 500)),
          ...Array.from({ length: 10 }, () => trickle(port, slowHeaders, 500)),
        ];
        const results = await Promise.all(connections);
        const elapsed = Date.now() - started;

        for (const { answer } of results) {
          // Node answers 408 when it can, otherwise it just closes the socket.
          expect(answer === '' || answer.startsWith('HTTP/1.1 408'), answer).toBe(true);
        }
        // Cut off by the deadline (plus the once-a-second check and a loaded machine's slack).
        expect(elapsed).toBeLessThan(SERVER_TIMEOUTS.requestTimeoutMs + 4_000);
        const held = () => new Promise<number>((resolve) => server.getConnections((_, count) => resolve(count)));
        await vi.waitFor(async () => expect(await held()).toBe(0), { timeout: 2_000 });
        // Twenty stalled clients cost nothing lasting: far below what buffering them would take.
        expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
        await expectNoOwner(t);

        const normal = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(normal.status).toBe(200);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
    SERVER_TIMEOUTS.requestTimeoutMs + 10_000,
  );
});

describe('N4 malformed JSON and wrong content types', () => {
  let t: TestApp;
  let alice: string;
  let csrf: string;
  beforeAll(async () => {
    ({ t, alice, csrf } = await signedInApp(watch));
  });

  it.each([
    ['a truncated object', '{"email":'],
    ['single quotes', "{'email':'owner@example.com'}"],
    ['trailing garbage', '{"email":"owner@example.com"} x'],
    ['a trailing comma', '{"email":"owner@example.com",}'],
    ['a comment', '{"email":"owner@example.com" /* hi */}'],
    ['NaN', '{"email":NaN}'],
    ['an empty body', ''],
    ['only whitespace', '  \n '],
    ['a lone BOM', '\uFEFF'],
  ])('N4 setup JSON with %s is refused with 400 MALFORMED_JSON', async (_, body) => {
    expectProblem(await postSetup(t, 'application/json', body), 400, 'MALFORMED_JSON');
    await expectNoOwner(t);
  });

  it.each([['null'], ['42'], ['"owner@example.com"'], ['[]'], ['true']])(
    'N4 setup JSON that parses to %s (not an object) is refused with 400 VALIDATION_FAILED',
    async (body) => {
      expectProblem(await postSetup(t, 'application/json', body), 400, 'VALIDATION_FAILED');
      await expectNoOwner(t);
    },
  );

  it.each([
    ['text/plain', 'text/plain'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['application/xml', 'application/xml'],
    ['no content type', null],
  ])('N4 setup JSON endpoint with %s is refused with 415 UNSUPPORTED_MEDIA_TYPE', async (_, contentType) => {
    const body = contentType?.startsWith('multipart')
      ? '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nowner@example.com\r\n--x--\r\n'
      : '{"email":"owner@example.com"}';
    expectProblem(await postSetup(t, contentType, body), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNoOwner(t);
    await expectStillServing(t);
  });

  it.each([
    ['JSON', 'application/json', () => JSON.stringify({ csrf })],
    ['text/plain', 'text/plain', () => `csrf=${csrf}`],
    [
      'multipart/form-data',
      'multipart/form-data; boundary=x',
      () => `--x\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${csrf}\r\n--x--\r\n`,
    ],
  ])('N4 sign-out form sent as %s is refused with 415 and the session survives', async (_, contentType, body) => {
    const response = await t.http
      .post('/auth/logout')
      .set('Cookie', alice)
      .set('Origin', t.config.publicOrigin)
      .set('Accept', 'application/json')
      .set('Content-Type', contentType)
      .send(body());
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await sessionAlive(t, alice)).toBe(true);
  });

  it('N4 setup form sent as JSON is refused with 415', async () => {
    const response = await t.http
      .post('/setup')
      .set('Origin', t.config.publicOrigin)
      .set('Accept', 'application/json')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'owner@example.com', password: TEST_FIRST_RUN_PASSWORD }));
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNoOwner(t);
  });
});

it('keeps every secret of this file (cookies, CSRF tokens, bootstrap password, master key) out of the logs', () => {
  watch.expectNoSecretInLogs();
});
