/** A person Herald can notify: a member of one tenant's directory. */
import { isAddressVerified, verifiableChannels } from './contact-verification.ts';
import type { PendingVerification, PendingVerifications, VerifiableChannel } from './contact-verification.ts';
import type { Channel } from './notification.ts';

/** The channels a recipient may switch off; the inbox, their record of everything, cannot be. */
export const switchableChannels = ['email', 'websocket', 'push', 'sms'] as const;
export type SwitchableChannel = (typeof switchableChannels)[number];

/** A recipient's own say over their channels: `false` switches one off, absent means on. */
export type ChannelPreferences = Readonly<Partial<Record<SwitchableChannel, boolean>>>;

export interface Recipient {
  readonly tenantId: string;
  readonly id: string;
  readonly email?: string;
  /** E.164 mobile number (`+14155550100`): the `sms` channel's address. */
  readonly phone?: string;
  /** IANA time zone, e.g. `Europe/Paris`. */
  readonly timezone?: string;
  /** BCP 47 tag (`fr`, `pt-BR`): the language templates are rendered in for them. */
  readonly locale?: string;
  readonly groups: readonly string[];
  /** Set by the recipient (`PATCH /v1/me`); honoured at delivery time. */
  readonly channelPreferences?: ChannelPreferences;
  /**
   * Addresses the recipient set for themself (`PATCH /v1/me`) and has not confirmed yet: Herald
   * sends nothing there but the code (shared/domain/contact-verification.ts).
   */
  readonly pendingVerifications?: PendingVerifications;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Counts the writes of the stored record; the store's optimistic concurrency check. Absent before the first write. */
  readonly version?: number;
}

/** What a write changes: a value sets a field, `null` clears it, absent leaves it as it is. */
export interface RecipientChanges {
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly timezone?: string | null;
  readonly locale?: string | null;
  readonly groups?: readonly string[];
  readonly channels?: ChannelPreferences;
  /**
   * Confirmations to start (a value) or forget (`null`). A write that sets an address without
   * saying anything here is a directory write by an admin or a sender: the address is trusted, and
   * any confirmation pending for that channel is forgotten.
   */
  readonly verifications?: Readonly<Partial<Record<VerifiableChannel, PendingVerification | null>>>;
}

/** The recipient field that holds the address of each verifiable channel. */
export const addressFields = { email: 'email', sms: 'phone' } as const satisfies Record<VerifiableChannel, keyof Recipient & keyof RecipientChanges>;

/** The address a recipient has on a verifiable channel. */
function addressOn(recipient: Pick<Recipient, 'email' | 'phone'>, channel: VerifiableChannel): string | undefined {
  return recipient[addressFields[channel]];
}

/** True when the recipient's address on `channel` may receive notifications (it is set and not awaiting confirmation). */
export function hasVerifiedAddress(recipient: Pick<Recipient, 'email' | 'phone' | 'pendingVerifications'>, channel: VerifiableChannel): boolean {
  const address = addressOn(recipient, channel);
  return address !== undefined && isAddressVerified(recipient.pendingVerifications, channel, address);
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
  const phone = pick(changes.phone, existing?.phone);
  const timezone = pick(changes.timezone, existing?.timezone);
  const locale = pick(changes.locale, existing?.locale);
  const channelPreferences = changes.channels ? { ...existing?.channelPreferences, ...changes.channels } : existing?.channelPreferences;
  const addresses: Record<VerifiableChannel, string | undefined> = { email, sms: phone };
  const pending = Object.fromEntries(
    verifiableChannels.flatMap((channel): [VerifiableChannel, PendingVerification][] => {
      const said = changes.verifications?.[channel];
      // A directory write of the address (nothing said of its confirmation) makes it trusted.
      const kept = said === undefined && changes[addressFields[channel]] === undefined ? existing?.pendingVerifications?.[channel] : undefined;
      const next = said ?? kept;
      // A confirmation only stands while its address is still the channel's address.
      return next && next.address === addresses[channel] ? [[channel, next]] : [];
    }),
  ) as Partial<Record<VerifiableChannel, PendingVerification>>;
  return {
    tenantId,
    id,
    ...(email !== undefined ? { email } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(timezone !== undefined ? { timezone } : {}),
    ...(locale !== undefined ? { locale } : {}),
    groups: [...(changes.groups ?? existing?.groups ?? [])],
    ...(channelPreferences && Object.keys(channelPreferences).length > 0 ? { channelPreferences } : {}),
    ...(Object.keys(pending).length > 0 ? { pendingVerifications: pending } : {}),
    createdAt: existing?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** The public view of a recipient, as the API returns it. */
export function toRecipientView(r: Recipient): Record<string, unknown> {
  return {
    id: r.id,
    email: r.email ?? null,
    phone: r.phone ?? null,
    timezone: r.timezone ?? null,
    locale: r.locale ?? null,
    groups: r.groups,
    channels: Object.fromEntries(switchableChannels.map((channel) => [channel, isChannelEnabled(r, channel)])),
    awaitingVerification: verifiableChannels.filter((channel) => addressOn(r, channel) !== undefined && !hasVerifiedAddress(r, channel)),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
