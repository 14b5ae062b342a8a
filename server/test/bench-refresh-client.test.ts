// The refresh load generator (bench/refresh-client.ts) signs DPoP proofs by hand with node:crypto
// to stay light beside the server it measures (docs/benchmarks.md, "The load generator"). These
// checks keep its proofs what a real client sends: a compact JWS that jose verifies with the key
// from its own header, with the claims RFC 9449 section 4.2 asks for.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, exportJWK, generateKeyPair, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// bench/ is outside the server's TypeScript project; the bench runs the same file.
const { postForm, proofSigner } = (await import(new URL('../../bench/refresh-client.ts', import.meta.url).href)) as {
  proofSigner(client: { privateKey: CryptoKey; jwk: JWK }): (htm: string, htu: string, nonce?: string) => string;
  postForm(
    url: URL,
    headers: Record<string, string>,
    form: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> }>;
};

describe('the refresh load generator', () => {
  it('signs proofs that verify with the key in their header, with fresh jti and the nonce', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const sign = proofSigner({ privateKey, jwk });
    const htu = 'http://127.0.0.1:1/oauth/token';
    const first = sign('POST', htu, 'n-1');
    const second = sign('POST', htu);

    const { payload, protectedHeader } = await jwtVerify(first, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    expect(protectedHeader.alg).toBe('ES256');
    expect(await calculateJwkThumbprint(protectedHeader.jwk ?? {})).toBe(await calculateJwkThumbprint(jwk));
    expect(payload).toMatchObject({ htm: 'POST', htu, nonce: 'n-1' });
    expect(Math.abs((payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    const again = await jwtVerify(second, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    expect(again.payload.nonce).toBeUndefined();
    expect(again.payload.jti).not.toBe(payload.jti);
    expect(decodeProtectedHeader(second).jwk).not.toHaveProperty('d');
  });

  it('a proof with a changed claim does not verify', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const proof = proofSigner({ privateKey, jwk: await exportJWK(publicKey) })('POST', 'http://127.0.0.1:1/oauth/token');
    const [header, , signature] = proof.split('.');
    const forged = Buffer.from(JSON.stringify({ htm: 'GET', htu: 'http://127.0.0.1:1/oauth/token', jti: 'x', iat: 1 })).toString(
      'base64url',
    );
    await expect(jwtVerify(`${header}.${forged}.${signature}`, EmbeddedJWK)).rejects.toThrow();
  });

  describe('postForm', () => {
    let server: Server;
    let url: URL;
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        req.on('end', () => {
          if (req.url === '/text') return void res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
          res.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': 'n-2' });
          res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], dpop: req.headers.dpop, body }));
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`);
    });
    afterAll(() => server.close());

    it('posts the form with its headers and reads the JSON answer', async () => {
      const answer = await postForm(url, { dpop: 'p' }, { grant_type: 'refresh_token', refresh_token: 'a b&c' });
      expect(answer.status).toBe(200);
      expect(answer.headers['dpop-nonce']).toBe('n-2');
      expect(answer.body).toEqual({
        method: 'POST',
        type: 'application/x-www-form-urlencoded',
        dpop: 'p',
        body: 'grant_type=refresh_token&refresh_token=a+b%26c',
      });
    });

    it('gives an answer that is not JSON as an empty body with its status', async () => {
      const answer = await postForm(new URL('/text', url), {}, {});
      expect(answer).toMatchObject({ status: 502, body: {} });
    });

    it('rejects when nothing listens', async () => {
      const closed = createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const port = (closed.address() as AddressInfo).port;
      closed.close();
      await once(closed, 'close');
      await expect(postForm(new URL(`http://127.0.0.1:${port}/token`), {}, {})).rejects.toThrow();
    });
  });
});
