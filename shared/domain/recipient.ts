/** A person Herald can notify: a member of one tenant's directory. */
import { isAddressVerified, verifiableChannels } from './contact-verification.ts';
import type { PendingVerification, PendingVerifications, VerifiableChannel } from './contact-verification.ts';
import { channels } from './channel-names.ts';
import type { Channel } from './notification.ts';
import type { QuietHours } from './time.ts';

/** The most notification types a recipient may hold switches for (each type is one small map). */
export const maxTypePreferences = 50;

/** The channels a recipient may switch off: every one but the inbox, their record of everything. */
export type SwitchableChannel = Exclude<Channel, 'inbox'>;
export const switchableChannels: readonly SwitchableChannel[] = channels.filter((c): c is SwitchableChannel => c !== 'inbox');

/**
 * An address SES reported back (a permanent bounce, or a complaint): Herald sends it nothing more
 * until an admin lifts it (`DELETE /v1/suppressions/{recipientId}`) or the address changes.
 */
export interface EmailSuppression {
  readonly address: string;
  readonly reason: 'bounce' | 'complaint';
  /** When SES reported it (ISO 8601, UTC). */
  readonly at: string;
}

/** A recipient's own say over their channels: `false` switches one off, `true` on, absent leaves it to the wider rule. */
export type ChannelPreferences = Readonly<Partial<Record<SwitchableChannel, boolean>>>;
/** Switches per notification `type` (`{ marketing: { sms: false } }`): they win over the per-channel ones. */
export type TypePreferences = Readonly<Record<string, ChannelPreferences>>;

export interface Recipient {
  readonly tenantId: string;
  readonly id: string;
  readonly email?: string;
  /** E.164 mobile number (`+14155550100`): the `sms` channel's address. */
  readonly phone?: string;
  /** The Telegram chat the bot writes to (a user id, or a group's negative id). */
  readonly telegramChatId?: string;
  /** Where the recipient's notifications are POSTed, signed (the `webhook` channel). */
  readonly webhookUrl?: string;
  /** BCP 47 language tag, canonical (`en-GB`), for templates. */
  readonly locale?: string;
  /** IANA time zone, e.g. `Europe/Paris`. */
  readonly timezone?: string;
  readonly groups: readonly string[];
  /** Set by the recipient (`PATCH /v1/me`); honoured at delivery time. */
  readonly channelPreferences?: ChannelPreferences;
  /** Per-type switches, set like `channelPreferences`; the more specific rule. */
  readonly typePreferences?: TypePreferences;
  /**
   * Addresses the recipient set for themself (`PATCH /v1/me`) and has not confirmed yet: Herald
   * sends nothing there but the code (shared/domain/contact-verification.ts).
   */
  readonly pendingVerifications?: PendingVerifications;
  /** Set when SES reported the e-mail address bounced or complained of; the e-mail channel skips it. */
  readonly emailSuppression?: EmailSuppression;
  /** Their own quiet hours (issue 12): a window, `null` for none at all; absent: the tenant's. */
  readonly quietHours?: QuietHours | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Counts the writes of the stored record; the store's optimistic concurrency check. Absent before the first write. */
  readonly version?: number;
}

/** What a write changes: a value sets a field, `null` clears it, absent leaves it as it is. */
export interface RecipientChanges {
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly telegramChatId?: string | null;
  readonly webhookUrl?: string | null;
  readonly locale?: string | null;
  readonly timezone?: string | null;
  readonly groups?: readonly string[];
  readonly channels?: ChannelPreferences;
  /** Per type: merged into the stored switches of that type; `null` forgets the type's switches. */
  readonly types?: Readonly<Record<string, ChannelPreferences | null>>;
  /** A window or `null` (none) sets the recipient's own quiet hours; `'default'` returns them to the tenant's. */
  readonly quietHours?: QuietHours | null | 'default';
  /**
   * Confirmations to start (a value) or forget (`null`). A write that sets an address without
   * saying anything here is a directory write by an admin or a sender: the address is trusted, and
   * any confirmation pending for that channel is forgotten.
   */
  readonly verifications?: Readonly<Partial<Record<VerifiableChannel, PendingVerification | null>>>;
}

/** The recipient field that holds the address of each verifiable channel. */
export const addressFields = { email: 'email', sms: 'phone', telegram: 'telegramChatId', webhook: 'webhookUrl' } as const satisfies Record<
  VerifiableChannel,
  keyof Recipient & keyof RecipientChanges
>;
type AddressField = (typeof addressFields)[VerifiableChannel];

/** The address a recipient has on a verifiable channel. */
export function addressOn(recipient: Pick<Recipient, AddressField>, channel: VerifiableChannel): string | undefined {
  return recipient[addressFields[channel]];
}

/** True when the recipient's address on `channel` may receive notifications (it is set and not awaiting confirmation). */
export function hasVerifiedAddress(recipient: Pick<Recipient, AddressField | 'pendingVerifications'>, channel: VerifiableChannel): boolean {
  const address = addressOn(recipient, channel);
  return address !== undefined && isAddressVerified(recipient.pendingVerifications, channel, address);
}

/** The suppression that stands for the recipient's current address, if any (one for an older address does not). */
export function suppressionOfEmail(recipient: Pick<Recipient, 'email' | 'emailSuppression'>): EmailSuppression | undefined {
  const suppression = recipient.emailSuppression;
  return suppression !== undefined && recipient.email !== undefined && suppression.address.toLowerCase() === recipient.email.toLowerCase() ? suppression : undefined;
}

/**
 * Why the recipient's preferences keep `channel` from a notification of `type`, or undefined when
 * they let it through. The most specific switch wins: the type's, then the channel's; on by default.
 */
export function preferenceSkip(recipient: Pick<Recipient, 'channelPreferences' | 'typePreferences'>, channel: Channel, type: string): string | undefined {
  if (channel === 'inbox') return undefined;
  const forType = Object.hasOwn(recipient.typePreferences ?? {}, type) ? recipient.typePreferences?.[type]?.[channel] : undefined;
  if (forType !== undefined) return forType ? undefined : `switched off for type ${type} by preference`;
  return recipient.channelPreferences?.[channel] === false ? 'disabled by preference' : undefined;
}

/** True unless the recipient switched `channel` off (for every type). */
export function isChannelEnabled(recipient: Pick<Recipient, 'channelPreferences'>, channel: Channel): boolean {
  if (channel === 'inbox') return true;
  return recipient.channelPreferences?.[channel] !== false;
}

/** The stored per-type switches after `changes` (`null` forgets a type; an emptied type is dropped). */
function mergeTypePreferences(existing: TypePreferences | undefined, changes: RecipientChanges['types']): TypePreferences | undefined {
  if (!changes) return existing;
  const merged = new Map(Object.entries(existing ?? {}));
  for (const [type, switches] of Object.entries(changes)) {
    const next = switches === null ? {} : { ...merged.get(type), ...switches };
    if (Object.keys(next).length === 0) merged.delete(type);
    else merged.set(type, next);
  }
  return Object.fromEntries(merged);
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
  const telegramChatId = pick(changes.telegramChatId, existing?.telegramChatId);
  const webhookUrl = pick(changes.webhookUrl, existing?.webhookUrl);
  const locale = pick(changes.locale, existing?.locale);
  const timezone = pick(changes.timezone, existing?.timezone);
  const quietHours = changes.quietHours === undefined ? existing?.quietHours : changes.quietHours === 'default' ? undefined : changes.quietHours;
  const channelPreferences = changes.channels ? { ...existing?.channelPreferences, ...changes.channels } : existing?.channelPreferences;
  const typePreferences = mergeTypePreferences(existing?.typePreferences, changes.types);
  const addresses: Record<VerifiableChannel, string | undefined> = { email, sms: phone, telegram: telegramChatId, webhook: webhookUrl };
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
    ...(telegramChatId !== undefined ? { telegramChatId } : {}),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    ...(timezone !== undefined ? { timezone } : {}),
    ...(locale !== undefined ? { locale } : {}),
    groups: [...(changes.groups ?? existing?.groups ?? [])],
    ...(channelPreferences && Object.keys(channelPreferences).length > 0 ? { channelPreferences } : {}),
    ...(typePreferences && Object.keys(typePreferences).length > 0 ? { typePreferences } : {}),
    ...(Object.keys(pending).length > 0 ? { pendingVerifications: pending } : {}),
    // A suppression follows its address: a new address starts clean.
    ...(existing?.emailSuppression && suppressionOfEmail({ email, emailSuppression: existing.emailSuppression }) ? { emailSuppression: existing.emailSuppression } : {}),
    ...(quietHours !== undefined ? { quietHours } : {}),
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
    telegramChatId: r.telegramChatId ?? null,
    webhookUrl: r.webhookUrl ?? null,
    locale: r.locale ?? null,
    timezone: r.timezone ?? null,
    groups: r.groups,
    channels: Object.fromEntries(switchableChannels.map((channel) => [channel, isChannelEnabled(r, channel)])),
    types: r.typePreferences ?? {},
    awaitingVerification: verifiableChannels.filter((channel) => addressOn(r, channel) !== undefined && !hasVerifiedAddress(r, channel)),
    emailSuppression: suppressionOfEmail(r) ?? null,
    quietHours: r.quietHours === undefined ? 'default' : r.quietHours,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
