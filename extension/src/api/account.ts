import {
  type AccountWithSessions,
  accountWithSessionsSchema,
  activityListSchema,
  problemSchema,
  sessionListSchema,
} from '@gatehouse/shared';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { ExtensionError, toExtensionError } from '../errors.js';
import { dpopHandle, requestOptions } from '../oauth/client.js';
import { getAccessToken } from '../oauth/tokens.js';
import { backendStore } from '../state/items.js';

/**
 * Calls to the Gatehouse API with the DPoP-bound access token. A rejected token is refreshed
 * once and the call retried; a nonce challenge is answered once; anything else is an error
 * with a sentence for the person.
 */

function challengeError(error: unknown): string | undefined {
  if (!(error instanceof oauth.WWWAuthenticateChallengeError)) return undefined;
  return error.cause.find((challenge) => challenge.scheme === 'dpop' || challenge.scheme === 'bearer')?.parameters.error;
}

async function callApi(method: string, path: string): Promise<Response> {
  const backend = await backendStore.get();
  if (!backend) throw new ExtensionError('NOT_CONFIGURED');
  const url = new URL(path, backend.origin);
  let refreshed = false;
  let nonceRetried = false;
  let token = await getAccessToken();
  for (;;) {
    try {
      const DPoP = await dpopHandle();
      const headers = new Headers({ accept: 'application/json' });
      return await oauth.protectedResourceRequest(token, method, url, headers, null, { ...requestOptions(backend.origin), DPoP });
    } catch (error) {
      if (oauth.isDPoPNonceError(error) && !nonceRetried) {
        nonceRetried = true;
        continue;
      }
      if (challengeError(error) === 'invalid_token' && !refreshed) {
        refreshed = true;
        token = await getAccessToken({ stale: token });
        continue;
      }
      if (error instanceof oauth.WWWAuthenticateChallengeError) throw new ExtensionError('TOKEN_INVALID', undefined, { cause: error });
      throw toExtensionError(error);
    }
  }
}

/** Reads a successful JSON body with `schema`, or turns a problem details answer into an ExtensionError. */
async function readJson<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
  if (!response.ok) throw await problemError(response);
  const parsed = schema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new ExtensionError('BACKEND_INVALID');
  return parsed.data;
}

async function problemError(response: Response): Promise<ExtensionError> {
  const problem = problemSchema.safeParse(await response.json().catch(() => null));
  return new ExtensionError(problem.success ? problem.data.code : 'UNEXPECTED');
}

export async function fetchAccount(): Promise<AccountWithSessions> {
  const account = await readJson(await callApi('GET', '/api/v1/me'), accountWithSessionsSchema.shape.account);
  const list = await readJson(await callApi('GET', '/api/v1/me/sessions?limit=50'), sessionListSchema);
  // Recent activity is a nice-to-have: a grant without activity:read (or an older backend) shows none.
  const activity = await callApi('GET', '/api/v1/me/activity?limit=5')
    .then((response) => readJson(response, activityListSchema))
    .then((body) => body.activity)
    .catch(() => []);
  return { account, sessions: list.sessions, activity };
}

export async function revokeSession(sessionId: string): Promise<void> {
  const response = await callApi('DELETE', `/api/v1/me/sessions/${encodeURIComponent(sessionId)}`);
  if (!response.ok) throw await problemError(response);
}

export async function revokeOtherSessions(): Promise<number> {
  const response = await callApi('POST', '/api/v1/me/sessions/revoke-others');
  return (await readJson(response, z.object({ revoked: z.number().int().min(0) }))).revoked;
}
