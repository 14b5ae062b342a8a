import { safeReturnPath } from '@gatehouse/shared';
import * as client from 'openid-client';
import type { AuditLog } from '../audit/index.js';
import type { ProviderConfig } from '../config/index.js';
import type { Deps, RequestMeta } from '../context.js';
import { randomId, safeEqual, sha256 } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { resolveSignIn, type SignInResolution, type User, UserStore, userChangeAnnouncer } from '../users/index.js';
import { toProfile } from './profile.js';
import type { ProviderRegistry } from './providers.js';
import type { LoginStateStore } from './state-store.js';

export interface StartedSignIn {
  authorizationUrl: string;
  browserBinding: string;
}

/**
 * What sign-in needs of invitations (invitations/service.ts, docs/invitations.md), named here so
 * that this folder does not depend on that one: open a link's token, find a started sign-in's
 * invitation again, and use it up for a new account.
 */
export interface InvitationGate {
  open(token: string, meta: RequestMeta): Promise<{ _id: string }>;
  pending(id: string, meta: RequestMeta): Promise<OpenInvitation>;
  accept(invitation: OpenInvitation, userId: string, meta: RequestMeta): Promise<boolean>;
}
interface OpenInvitation {
  _id: string;
  email: string;
}

export interface CallbackInput {
  providerId: string;
  query: Record<string, string>;
  state: string | undefined;
  error: string | undefined;
  browserBinding: string | null;
}

/**
 * The two halves of SSO sign-in. `start` remembers state, nonce, PKCE verifier and the
 * expected issuer, bound to the browser by a cookie value; `finish` consumes that once, lets
 * openid-client check the response (code, PKCE, nonce, RFC 9207 `iss`, ID token), then finds
 * or creates the account and opens a fresh session.
 */
export class SignInService {
  private readonly users: UserStore;

  constructor(
    private readonly deps: Deps,
    private readonly providers: ProviderRegistry,
    private readonly states: LoginStateStore,
    private readonly sessions: SessionService,
    private readonly audit: AuditLog,
    private readonly invitations: InvitationGate,
  ) {
    this.users = new UserStore(deps.db, userChangeAnnouncer(deps));
  }

  /**
   * `invitationToken`: the invitation link this browser followed (its cookie); a sign-in that
   * starts with one may create an account even where signup is closed (docs/invitations.md).
   */
  async start(
    providerId: string,
    returnTo: string | undefined,
    existingBinding: string | null,
    meta: RequestMeta,
    invitationToken: string | null = null,
  ): Promise<StartedSignIn> {
    const provider = this.providers.get(providerId);
    // An invitation that no longer holds (used, withdrawn, expired) is left out, and audited by
    // open(): the sign-in goes on as if there were none.
    const invitation = invitationToken
      ? await this.invitations.open(invitationToken, meta).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'INVITATION_INVALID') return null;
          throw error;
        })
      : null;
    const configuration = await this.providers.configuration(provider);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const browserBinding = existingBinding ?? randomId(32);
    await this.states.save(state, {
      providerId: provider.id,
      issuer: configuration.serverMetadata().issuer,
      codeVerifier,
      nonce,
      returnTo: safeReturnPath(returnTo) ?? null,
      browserBinding: sha256(browserBinding),
      createdAt: this.deps.clock.now().getTime(),
      invitationId: invitation?._id ?? null,
    });
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(provider),
      scope: provider.scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { authorizationUrl: url.href, browserBinding };
  }

  async finish(input: CallbackInput, meta: RequestMeta): Promise<{ user: User; token: string; returnTo: string; maxAgeSeconds: number }> {
    const provider = this.providers.get(input.providerId);
    const fail = async (code: 'LOGIN_STATE_INVALID' | 'LOGIN_FAILED' | 'LOGIN_REJECTED', reason: string, cause?: unknown) => {
      await this.audit.recordBestEffort(
        { action: 'login.failed', outcome: 'failure', actor: 'anonymous', details: { provider: provider.id, reason } },
        meta,
      );
      return new AppError(code, { cause });
    };

    if (!input.state) throw await fail('LOGIN_STATE_INVALID', 'state_missing');
    const saved = await this.states.consume(input.state);
    if (!saved) throw await fail('LOGIN_STATE_INVALID', 'state_unknown_or_used');
    // A state issued for another provider (mix-up, O6) or another browser (login CSRF, O16).
    if (saved.providerId !== provider.id) throw await fail('LOGIN_STATE_INVALID', 'state_provider_mismatch');
    if (!input.browserBinding || !safeEqual(sha256(input.browserBinding), saved.browserBinding)) {
      throw await fail('LOGIN_STATE_INVALID', 'state_browser_mismatch');
    }
    const age = this.deps.clock.now().getTime() - saved.createdAt;
    if (age < 0 || age > this.deps.config.OIDC_STATE_TTL_SECONDS * 1000) throw await fail('LOGIN_STATE_INVALID', 'state_expired');
    if (input.error) throw await fail('LOGIN_FAILED', 'provider_error');

    const configuration = await this.providers.configuration(provider);
    if (configuration.serverMetadata().issuer !== saved.issuer) throw await fail('LOGIN_REJECTED', 'issuer_changed');
    const callbackUrl = new URL(this.redirectUri(provider));
    for (const [key, value] of Object.entries(input.query)) callbackUrl.searchParams.append(key, value);

    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: saved.codeVerifier,
        expectedState: input.state,
        expectedNonce: saved.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token');
      // openid-client accepts an aud array with extra audiences when azp names us; a token also
      // meant for parties we don't trust is refused (docs/security-tests.md O7).
      if (Array.isArray(idClaims.aud) && (idClaims.aud.length !== 1 || idClaims.aud[0] !== provider.clientId)) {
        throw new Error('ID token has untrusted extra audiences');
      }
      claims = { ...(await this.userInfo(configuration, tokens.access_token, idClaims.sub)), ...idClaims };
    } catch (error) {
      if (isUnreachable(error)) {
        await this.audit.recordBestEffort(
          {
            action: 'login.failed',
            outcome: 'failure',
            actor: 'anonymous',
            details: { provider: provider.id, reason: 'provider_unreachable' },
          },
          meta,
        );
        throw new AppError('PROVIDER_UNAVAILABLE', { cause: error });
      }
      throw await fail('LOGIN_REJECTED', 'response_rejected', error);
    }

    const profile = toProfile(claims, provider.groupsClaim);
    let user: User;
    let resolution: SignInResolution;
    try {
      const invitation = saved.invitationId ? await this.invitations.pending(saved.invitationId, meta) : null;
      resolution = await resolveSignIn(this.users, provider, profile, {
        signupDisabled: this.deps.config.DISABLE_SIGNUP,
        clock: this.deps.clock,
        ...(invitation
          ? { invitation: { email: invitation.email, claim: (userId) => this.invitations.accept(invitation, userId, meta) } }
          : {}),
      });
      user = resolution.user;
    } catch (error) {
      if (error instanceof AppError && error.status === 403) await this.refuse(provider, null, error.code, meta);
      throw error;
    }
    if (user.status !== 'active') {
      const code = user.status === 'banned' ? 'ACCOUNT_BANNED' : 'ACCOUNT_DISABLED';
      await this.refuse(provider, user, code, meta);
      throw new AppError(code);
    }

    await this.recordAccountChanges(resolution, provider.id, meta);
    const { record, token, maxAgeSeconds } = await this.sessions.createBrowserSession(user, meta, {
      providerId: provider.id,
      upstreamSid: profile.sid,
    });
    try {
      await this.audit.record(
        {
          action: 'login.succeeded',
          outcome: 'success',
          actor: `user:${user._id}`,
          target: `session:${record._id}`,
          details: { provider: provider.id },
          ipOwner: { userId: user._id, keySalt: user.keySalt },
        },
        meta,
      );
    } catch (error) {
      // No session without its audit entry: withdraw it before failing.
      await this.sessions.revoke(record._id, user._id, 'audit_failed').catch(() => undefined);
      throw error;
    }
    return { user, token, returnTo: saved.returnTo ?? '/account', maxAgeSeconds };
  }

  /** A new account (`user.created`) or roles remapped from the provider's groups (`user.updated`). */
  private async recordAccountChanges(resolution: SignInResolution, providerId: string, meta: RequestMeta): Promise<void> {
    const { user } = resolution;
    const base = {
      outcome: 'success' as const,
      actor: `user:${user._id}`,
      target: `user:${user._id}`,
      ipOwner: { userId: user._id, keySalt: user.keySalt },
    };
    if (resolution.created) await this.audit.record({ ...base, action: 'user.created', details: { provider: providerId } }, meta);
    if (resolution.rolesChanged)
      await this.audit.record(
        { ...base, action: 'user.updated', details: { provider: providerId, roles: user.roles, reason: 'idp_groups' } },
        meta,
      );
  }

  /**
   * Audits a callback refused before it could be read (a duplicated or malformed parameter,
   * docs/security-tests.md O2) like any other failed sign-in. Ids of providers we don't have are not recorded.
   */
  async recordUnreadableCallback(providerId: string, reason: string, meta: RequestMeta): Promise<void> {
    if (!this.providers.list().some((provider) => provider.id === providerId)) return;
    await this.audit.recordBestEffort(
      { action: 'login.failed', outcome: 'failure', actor: 'anonymous', details: { provider: providerId, reason } },
      meta,
    );
  }

  private async userInfo(configuration: client.Configuration, accessToken: string, sub: string): Promise<Record<string, unknown>> {
    if (!configuration.serverMetadata().userinfo_endpoint) return {};
    return { ...(await client.fetchUserInfo(configuration, accessToken, sub)) };
  }

  private refuse(provider: ProviderConfig, user: User | null, code: string, meta: RequestMeta): Promise<void> {
    return this.audit.recordBestEffort(
      {
        action: 'login.refused',
        outcome: 'refused',
        actor: user ? `user:${user._id}` : 'anonymous',
        ...(user ? { target: `user:${user._id}`, ipOwner: { userId: user._id, keySalt: user.keySalt } } : {}),
        details: { provider: provider.id, reason: code },
      },
      meta,
    );
  }

  private redirectUri(provider: ProviderConfig): string {
    return `${this.deps.config.publicOrigin}/auth/${provider.id}/callback`;
  }
}

/** Network failures and timeouts talking to the provider, as opposed to a bad response. */
function isUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const name = (current as Error).name;
    const message = (current as Error).message ?? '';
    if (name === 'TimeoutError' || name === 'AbortError' || /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND/.test(message))
      return true;
    current = (current as Error).cause;
  }
  return false;
}
