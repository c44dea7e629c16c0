/** A person Herald can notify: a member of one tenant's directory. */
export interface Recipient {
  readonly tenantId: string;
  readonly id: string;
  readonly email?: string;
  /** IANA time zone, e.g. `Europe/Paris`. */
  readonly timezone?: string;
  readonly groups: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The public view of a recipient, as the API returns it. */
export function toRecipientView(r: Recipient): Record<string, unknown> {
  return {
    id: r.id,
    email: r.email ?? null,
    timezone: r.timezone ?? null,
    groups: r.groups,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
