/** A person Herald can notify: a member of one tenant's directory. */
import type { Channel } from './notification.ts';

/** The channels a recipient may switch off; the inbox, their record of everything, cannot be. */
export const switchableChannels = ['email', 'websocket'] as const;
export type SwitchableChannel = (typeof switchableChannels)[number];

/** A recipient's own say over their channels: `false` switches one off, absent means on. */
export type ChannelPreferences = Readonly<Partial<Record<SwitchableChannel, boolean>>>;

export interface Recipient {
  readonly tenantId: string;
  readonly id: string;
  readonly email?: string;
  /** IANA time zone, e.g. `Europe/Paris`. */
  readonly timezone?: string;
  readonly groups: readonly string[];
  /** Set by the recipient (`PATCH /v1/me`); honoured at delivery time. */
  readonly channelPreferences?: ChannelPreferences;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Counts the writes of the stored record; the store's optimistic concurrency check. Absent before the first write. */
  readonly version?: number;
}

/** What a write changes: a value sets a field, `null` clears it, absent leaves it as it is. */
export interface RecipientChanges {
  readonly email?: string | null;
  readonly timezone?: string | null;
  readonly groups?: readonly string[];
  readonly channels?: ChannelPreferences;
}

/** True unless the recipient switched `channel` off. */
export function isChannelEnabled(recipient: Pick<Recipient, 'channelPreferences'>, channel: Channel): boolean {
  if (channel === 'inbox') return true;
  return recipient.channelPreferences?.[channel] !== false;
}

/** The recipient after `changes`, created when `existing` is undefined; the store sets `version`. */
export function applyRecipientChanges(
  tenantId: string,
  id: string,
  existing: Recipient | undefined,
  changes: RecipientChanges,
  now: Date,
): Recipient {
  const pick = (change: string | null | undefined, current: string | undefined): string | undefined =>
    change === undefined ? current : (change ?? undefined);
  const email = pick(changes.email, existing?.email);
  const timezone = pick(changes.timezone, existing?.timezone);
  const channelPreferences = changes.channels ? { ...existing?.channelPreferences, ...changes.channels } : existing?.channelPreferences;
  return {
    tenantId,
    id,
    ...(email !== undefined ? { email } : {}),
    ...(timezone !== undefined ? { timezone } : {}),
    groups: [...(changes.groups ?? existing?.groups ?? [])],
    ...(channelPreferences && Object.keys(channelPreferences).length > 0 ? { channelPreferences } : {}),
    createdAt: existing?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** The public view of a recipient, as the API returns it. */
export function toRecipientView(r: Recipient): Record<string, unknown> {
  return {
    id: r.id,
    email: r.email ?? null,
    timezone: r.timezone ?? null,
    groups: r.groups,
    channels: Object.fromEntries(switchableChannels.map((channel) => [channel, isChannelEnabled(r, channel)])),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
