import {
  authorizationServerMetadataSchema,
  DEVICE_CODE_GRANT,
  deviceAuthorizationRequestSchema,
  SCOPE_NAMES,
  tokenGrantRequestSchema,
} from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import { type AppState, oauthErrors, rawHeaderValues, requestMeta, route, type Step } from '../http/index.js';
import type { DpopVerifier } from '../tokens/index.js';
import type { PairingService } from './service.js';

export interface OAuthRouteDeps {
  pairing: PairingService;
  dpop: DpopVerifier;
  issuer: string;
  bodyLimit: number;
  requireNonce: boolean;
  /** Per-address and global limits on pairing starts. */
  startLimits: Step[];
}

/**
 * The authorization server for paired clients: metadata (RFC 8414), device authorization
 * (RFC 8628) and the token endpoint (device_code and refresh_token grants, DPoP per RFC 9449).
 * Every answer carries a fresh `DPoP-Nonce`, so clients always hold a valid one.
 */
export function oauthRoutes(deps: OAuthRouteDeps) {
  const router = new Router<AppState>();
  const endpoint = (path: string) => `${deps.issuer}${path}`;
  const withNonce: Step = async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } finally {
      ctx.set('DPoP-Nonce', deps.dpop.currentNonce());
    }
  };

  route(
    router,
    {
      method: 'get',
      path: '/.well-known/oauth-authorization-server',
      summary: 'Authorization server metadata (RFC 8414).',
      response: authorizationServerMetadataSchema,
    },
    (_input, ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      return {
        issuer: deps.issuer,
        device_authorization_endpoint: endpoint('/oauth/device_authorization'),
        token_endpoint: endpoint('/oauth/token'),
        revocation_endpoint: endpoint('/oauth/revoke'),
        introspection_endpoint: endpoint('/oauth/introspect'),
        jwks_uri: endpoint('/.well-known/jwks.json'),
        grant_types_supported: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: ['none'],
        revocation_endpoint_auth_methods_supported: ['none'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
        dpop_signing_alg_values_supported: ['ES256'],
        scopes_supported: SCOPE_NAMES.filter((scope) => !scope.startsWith('admin:')),
      };
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/oauth/device_authorization',
      summary: 'Start pairing (RFC 8628) with a DPoP proof.',
      auth: { kind: 'client' },
      body: { schema: deviceAuthorizationRequestSchema, kind: 'form', limit: deps.bodyLimit },
    },
    oauthErrors,
    withNonce,
    ...deps.startLimits,
    async ({ body }, ctx) => {
      const { jkt } = await deps.dpop.verify({
        proofs: rawHeaderValues(ctx, 'dpop'),
        htm: 'POST',
        htu: endpoint('/oauth/device_authorization'),
        requireNonce: false,
      });
      return deps.pairing.start({ clientId: body.client_id, scope: body.scope, jkt }, requestMeta(ctx));
    },
  );

  route(
    router,
    {
      method: 'post',
      path: '/oauth/token',
      summary: 'device_code and refresh_token grants with a DPoP proof (RFC 8628, RFC 9449).',
      auth: { kind: 'client' },
      body: {
        schema: tokenGrantRequestSchema,
        kind: 'form',
        limit: deps.bodyLimit,
        // RFC 6749 §5.2: a grant we don't do is unsupported_grant_type, not a malformed request.
        before: (params) => {
          const grant = (params as Record<string, unknown>).grant_type;
          if (typeof grant === 'string' && grant !== DEVICE_CODE_GRANT && grant !== 'refresh_token')
            throw new AppError('GRANT_TYPE_UNSUPPORTED');
        },
      },
    },
    oauthErrors,
    withNonce,
    async ({ body }, ctx) => {
      // The client must exist before its proof is worth checking (RFC 6749 §5.2 invalid_client).
      deps.pairing.clients.get(body.client_id);
      const check = { proofs: rawHeaderValues(ctx, 'dpop'), htm: 'POST', htu: endpoint('/oauth/token'), requireNonce: deps.requireNonce };
      const meta = requestMeta(ctx);
      if (body.grant_type === DEVICE_CODE_GRANT) {
        const { jkt } = await deps.dpop.verify(check);
        return await deps.pairing.redeemDeviceCode({ deviceCode: body.device_code, clientId: body.client_id, jkt }, meta);
      }
      // The proof's jti is claimed in the revocation round trip of the refresh (one Redis
      // round trip per exchange instead of two); without Redis it cannot be claimed: 503.
      const { jkt, replayKey } = await deps.dpop.verifyProof(check);
      return await deps.pairing.refresh({ refreshToken: body.refresh_token, clientId: body.client_id, jkt, once: replayKey }, meta);
    },
  );

  return router;
}
