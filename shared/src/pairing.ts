import { z } from 'zod';

/**
 * Pairing (the OAuth 2.0 device authorization grant, RFC 8628) as both sides see it: the user
 * code's alphabet and display form, how typed codes are normalised (once, here), and the
 * fingerprint phrase that lets a person check that the pair page and the popup talk about the
 * same key.
 */

/** Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives. */
export const USER_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const USER_CODE_LENGTH = 8;

/** Look-alikes folded the way Crockford's base32 specifies: I and L read as 1, O as 0. */
const LOOK_ALIKES: Record<string, string> = { I: '1', L: '1', O: '0' };

/**
 * The canonical 8-character form of what a person typed, or null when it cannot be a user
 * code. Case, spaces, hyphens and look-alike letters are forgiven; anything else is not.
 */
export function normalizeUserCode(input: string): string | null {
  if (input.length > 32) return null;
  let out = '';
  for (const raw of input.toUpperCase()) {
    if (raw === ' ' || raw === '-' || raw === '\u00A0') continue;
    const char = LOOK_ALIKES[raw] ?? raw;
    if (!USER_CODE_ALPHABET.includes(char)) return null;
    out += char;
  }
  return out.length === USER_CODE_LENGTH ? out : null;
}

/** `ABCD2345` → `ABCD-2345`, the way codes are shown everywhere. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What the pair page accepts as the typed code: a bounded string, normalised later. */
export const userCodeInputSchema = z.string().max(32);

/**
 * 256 short, distinct English words: four of them carry 32 bits of the key's thumbprint, enough
 * that an attacker cannot make a key whose phrase matches a victim's by chance in a pairing
 * window, and easy to compare at a glance.
 */
const WORDS = (
  'acid acorn actor adobe agent alarm album alder alley alpha amber angle ankle apple april apron ' +
  'arena argon armor arrow aspen atlas attic audio award bacon badge bagel baker bamboo banjo barge ' +
  'basil basin beach beard bench berry bison blade blaze bloom board bonus boots brave bread brick ' +
  'bridge brook brush cabin cable cacao camel candy canoe canyon cargo carol cedar chalk charm chess ' +
  'chief chili cider cigar civic cliff clock cloud clove coach cobra cocoa comet coral couch crane ' +
  'crater crest crown cubic cycle daisy dance delta denim depot desk diary diner disco dome dough ' +
  'dozen draft dream drum dune eagle earth easel echo elbow elder elite elm ember emu epoch fable ' +
  'falcon fancy fern ferry fiber field finch fjord flame flint flute focus forge fossil frost fudge ' +
  'gala galaxy garlic gecko gem ghost giant ginger glade globe glove grain grape gravel guava guide ' +
  'gust habit hammer harbor hazel heron hinge honey horse hotel husky igloo index iris island ivory ' +
  'jacket jade jaguar jazz jelly jewel joker judge juice jungle karma kayak kettle kiwi koala label ' +
  'ladder lagoon lake lamp latch lava lemon lens lilac lime linen lion lobby locket lotus lunar lynx ' +
  'magnet mango maple marble meadow medal melon mercy mint mocha model moose mosaic motor mural ' +
  'nectar needle nickel noble north novel nutmeg oasis ocean olive onion opal orbit orchid otter ' +
  'oyster paddle palm panda paper parade pastel peach pearl pebble pepper piano pilot pine pixel ' +
  'plaza plum polar pony poppy prism pulse quail quartz quest quill radar radio raven reef relic robin'
).split(' ');

/**
 * The four-word phrase for a DPoP key thumbprint (RFC 7638, base64url): the pair page shows it
 * beside the device, the popup shows it beside the code, and they match only for the same key.
 */
export function fingerprintPhrase(jkt: string): string {
  const bytes = base64UrlBytes(jkt).slice(0, 4);
  if (bytes.length < 4) throw new TypeError('Not a key thumbprint.');
  return Array.from(bytes, (byte) => WORDS[byte] as string).join(' ');
}

function base64UrlBytes(value: string): number[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of value) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new TypeError('Not base64url.');
    buffer = (buffer << 6) | index;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return bytes;
}

const clientIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'Not a valid client id.');
const scopeParamSchema = z.string().max(512).optional();
/** Device codes and refresh tokens we hand out: 43 url-safe characters (256 bits). */
const opaqueSecretSchema = z.string().min(1).max(512);

/**
 * `POST /oauth/device_authorization` (RFC 8628 §3.1), form-encoded. Unknown parameters are
 * dropped, not refused (RFC 6749 §3.1); repeated ones are refused before this (parameter pollution).
 */
export const deviceAuthorizationRequestSchema = z.object({
  client_id: clientIdSchema,
  scope: scopeParamSchema,
});

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** `POST /oauth/token`: the two grants Gatehouse supports, form-encoded. */
export const tokenGrantRequestSchema = z.discriminatedUnion('grant_type', [
  z.object({ grant_type: z.literal(DEVICE_CODE_GRANT), device_code: opaqueSecretSchema, client_id: clientIdSchema }),
  z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: opaqueSecretSchema,
    client_id: clientIdSchema,
    scope: scopeParamSchema,
  }),
]);
export type TokenGrantRequest = z.infer<typeof tokenGrantRequestSchema>;

/** The pair page's forms: the typed code, then the decision on it. */
export const pairLookupSchema = z.strictObject({ user_code: userCodeInputSchema, csrf: z.string().max(200) });
export const pairDecisionSchema = z.strictObject({
  user_code: userCodeInputSchema,
  decision: z.enum(['approve', 'decline']),
  csrf: z.string().max(200),
});

/**
 * `GET /.well-known/oauth-authorization-server` (RFC 8414) as Gatehouse answers it. Clients
 * other than ours may read more fields; the extension relies on the required ones.
 */
export const authorizationServerMetadataSchema = z.object({
  issuer: z.string(),
  device_authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  revocation_endpoint: z.string().optional(),
  introspection_endpoint: z.string().optional(),
  jwks_uri: z.string().optional(),
  grant_types_supported: z.array(z.string()).optional(),
  response_types_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  revocation_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  introspection_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  dpop_signing_alg_values_supported: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
});
export type AuthorizationServerMetadata = z.infer<typeof authorizationServerMetadataSchema>;
