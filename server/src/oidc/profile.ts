import { canonicalizeEmail } from '@gatehouse/shared';
import { z } from 'zod';
import type { UpstreamProfile } from '../users/index.js';

/** Claims we read from a verified ID token merged with userinfo; everything else is ignored. */
const claimsSchema = z.looseObject({
  iss: z.string(),
  sub: z.string().min(1).max(255),
  email: z.string().max(320).optional(),
  email_verified: z.unknown().optional(),
  name: z.string().max(200).optional(),
  sid: z.string().max(255).optional(),
});

/**
 * The person as the provider describes them. Only a boolean `true` counts as a verified
 * email — a string "true", a missing claim or anything else does not (docs/security-tests.md O12).
 */
export function toProfile(claims: Record<string, unknown>, groupsClaim: string): UpstreamProfile & { sid: string | null } {
  const parsed = claimsSchema.parse(claims);
  const rawGroups = claims[groupsClaim];
  const groups = Array.isArray(rawGroups)
    ? rawGroups.filter((group): group is string => typeof group === 'string' && group.length <= 200).slice(0, 200)
    : [];
  return {
    iss: parsed.iss,
    sub: parsed.sub,
    email: parsed.email ? canonicalizeEmail(parsed.email) : null,
    emailVerified: parsed.email_verified === true,
    name: parsed.name?.trim() || null,
    groups,
    sid: parsed.sid ?? null,
  };
}
