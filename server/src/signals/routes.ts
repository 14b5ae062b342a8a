import Router from '@koa/router';
import { z } from 'zod';
import type { TransmitterConfig } from '../config/index.js';
import { type AppContext, type AppState, mediaType, readText, requestMeta, route, type Step, uncompressedBody } from '../http/index.js';
import type { SignalReceiver } from './receiver.js';
import { type SetErrorCode, SetRejected } from './set-token.js';

/** RFC 8935 §2.4: what each error code tells the transmitter (generic; never the token's content). */
const DESCRIPTIONS: Record<SetErrorCode, string> = {
  invalid_request: 'The request is not a valid Security Event Token for this receiver.',
  invalid_key: 'The token is not signed by a key of this transmitter.',
  invalid_issuer: 'The token’s issuer is not this transmitter.',
  invalid_audience: 'The token is not addressed to this receiver.',
  authentication_failed: 'The transmitter could not be authenticated.',
};

/**
 * `POST /ssf/events/<transmitter>`: push delivery of Security Event Tokens (RFC 8935), server to
 * server — no cookies, no CSRF or origin checks; the token's signature is the authentication.
 * 202 once the SET is verified and handled (also for events and subjects we don't act on: the
 * answer never says whether the subject has an account here), 400 with `{"err","description"}`
 * for a SET we refuse, 503 when we can't decide (the transmitter retries).
 */
export function signalsRoutes(deps: { receiver: SignalReceiver; bodyLimit: number }) {
  const router = new Router<AppState>();

  /** Renders refusals as RFC 8935 error bodies; everything else goes to the error handler. */
  const setErrors: Step = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof SetRejected)) throw error;
      ctx.state.log?.info({ reason: error.reason, err: error.err }, 'http.rejected');
      ctx.status = error.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { err: error.err, description: DESCRIPTIONS[error.err] };
    }
  };

  /** Only `application/secevent+jwt`, uncompressed, at most BODY_LIMIT_BYTES; a compact JWS. */
  const readSet = async (ctx: AppContext, transmitter: TransmitterConfig): Promise<string> => {
    try {
      if (mediaType(ctx.req) !== 'application/secevent+jwt') throw new SetRejected('invalid_request', 'content_type', { status: 415 });
      if (!uncompressedBody(ctx.req)) throw new SetRejected('invalid_request', 'content_type', { status: 415 });
      const text = (await readText(ctx.req, deps.bodyLimit)).trim();
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text)) throw new SetRejected('invalid_request', 'malformed');
      return text;
    } catch (error) {
      const status = (error as { status?: number } | null)?.status;
      if (error instanceof SetRejected || (status !== undefined && status < 500)) {
        await deps.receiver.recordUnreadable(transmitter, requestMeta(ctx));
      }
      throw error;
    }
  };

  route(
    router,
    {
      method: 'post',
      path: '/ssf/events/:transmitter',
      summary: 'Shared Signals push delivery (RFC 8935) of a Security Event Token.',
      auth: { kind: 'signed' },
      params: z.object({ transmitter: z.string() }),
    },
    setErrors,
    async ({ params }, ctx) => {
      const transmitter = deps.receiver.transmitter(params.transmitter);
      await deps.receiver.receive(transmitter, await readSet(ctx, transmitter), requestMeta(ctx));
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 202;
      return '';
    },
  );
  return router;
}
