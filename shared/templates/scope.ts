/**
 * What a template sees besides its payload: `recipient.*` and `tenant.*`.
 *
 * Herald keeps no tenant settings yet (no name, no branding: a tenant is the `tenant` claim of its
 * tokens), so `tenant` holds the tenant's id alone; when tenant settings exist, their name and
 * branding belong here, and every template gets them.
 */
import type { Recipient } from '../domain/recipient.ts';

/** The `tenant` object of a template's scope: `{ id }`. */
export function tenantScope(tenantId: string): Readonly<Record<string, unknown>> {
  return { id: tenantId };
}

/** The recipient's own fields a template sees as `recipient.*`: id, groups, and email, timezone, locale when set. */
export function recipientScope(recipient: Recipient): Readonly<Record<string, unknown>> {
  return {
    id: recipient.id,
    groups: recipient.groups,
    ...(recipient.email !== undefined ? { email: recipient.email } : {}),
    ...(recipient.timezone !== undefined ? { timezone: recipient.timezone } : {}),
    ...(recipient.locale !== undefined ? { locale: recipient.locale } : {}),
  };
}
