/**
 * A user's own directory record: `GET /v1/me`, `PATCH /v1/me` and `POST /v1/me/verify`. Only
 * admins and senders put people in the directory (it is who a tenant may notify, and whom a
 * broadcast to everyone reaches), so a user who is not in it gets 404: a token alone does not
 * enrol anyone.
 *
 * An address set here is the user's own word, so it is confirmed before Herald sends it anything
 * but the code (shared/domain/contact-verification.ts); each code sent counts against the user's
 * self-service send limits, and an e-mail or SMS code takes its send from the provider's send
 * budget, as deliveries do (verification-code-sends.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Caller } from '../domain/caller.ts';
import { classifyProviderError, classifyTelegramError } from '../domain/delivery-errors.ts';
import type { ProviderVerdict } from '../domain/delivery-errors.ts';
import { checkVerificationCode, newVerificationCode, pendingVerification, verifiableChannels } from '../domain/contact-verification.ts';
import type { PendingVerification, VerifiableChannel } from '../domain/contact-verification.ts';
import { addressFields, addressOn, applyRecipientChanges, hasVerifiedAddress, maxTypePreferences } from '../domain/recipient.ts';
import type { ChannelPreferences, Recipient, RecipientChanges } from '../domain/recipient.ts';
import type { UpdateMeBody, VerifyContactBody } from '../domain/schemas.ts';
import { ConflictError, NotFoundError, ServiceUnavailableError, UnprocessableEntityError, ValidationError } from '../errors.ts';
import { logger } from '../observability/logger.ts';
import type { RecipientStore, SelfSendLimits } from '../ports.ts';
import { refuseUnreachableWebhook, WebhookTargetRefusedError } from '../domain/webhook-targets.ts';
import type { WebhookTargetMode } from '../domain/webhook-targets.ts';
import { takeSelfSends } from './self-sends.ts';
import { CodeNotSentYetError, sendVerificationCode } from './verification-code-sends.ts';
import type { CodeSendDeps } from './verification-code-sends.ts';

/** What the caller's own record takes: the directory, the limits, and what sends the codes (and its clock). */
export interface MeDeps extends CodeSendDeps {
  readonly recipients: RecipientStore;
  readonly selfSend: SelfSendLimits;
  /** Which webhook URLs may be stored (`HERALD_WEBHOOK_TARGETS`). @default 'public-https' */
  readonly webhookTargets?: WebhookTargetMode;
}

/** How many times a change is re-applied after losing a race with another write of the record. */
const saveAttempts = 5;

function notInDirectory(caller: Caller): NotFoundError {
  return new NotFoundError(`You (${caller.sub}) are not in the directory of tenant ${caller.tenantId}; an admin or sender registers recipients`);
}

/** The caller's own record. */
export async function getMe(deps: Pick<MeDeps, 'recipients'>, caller: Caller): Promise<Recipient> {
  const me = await deps.recipients.get(caller.tenantId, caller.sub);
  if (!me) throw notInDirectory(caller);
  return me;
}

/**
 * The limit of per-type switches holds for what is kept, not only for one request's share of it: a
 * change that would keep more than {@link maxTypePreferences} (and more than before) is refused.
 * @throws ValidationError naming `types`
 */
function refuseTooManyTypes(current: Recipient, next: Recipient): void {
  const types = Object.keys(next.typePreferences ?? {}).length;
  if (types > maxTypePreferences && types > Object.keys(current.typePreferences ?? {}).length) {
    const message = `would hold switches for ${types} types, more than ${maxTypePreferences}: forget some first ({ "types": { "<type>": null } })`;
    throw new ValidationError(`types ${message}`, { details: [{ field: 'types', message }] });
  }
}

/**
 * Writes `changes` to the caller's record, re-reading after a race; `prepare` sees each fresh read.
 * Returns the record written and the one it replaced.
 */
async function changeMe(deps: MeDeps, caller: Caller, prepare: (current: Recipient) => RecipientChanges): Promise<{ saved: Recipient; replaced: Recipient }> {
  for (let attempt = 0; attempt < saveAttempts; attempt++) {
    const current = await getMe(deps, caller);
    const next = applyRecipientChanges(caller.tenantId, caller.sub, current, prepare(current), deps.clock.now());
    refuseTooManyTypes(current, next);
    if (await deps.recipients.save(next, current)) return { saved: next, replaced: current };
  }
  throw new ConflictError('Your record kept changing while it was being updated; try again');
}

/** The changes a `PATCH /v1/me` body asks for (the inbox, which the schema refuses to switch, left out). */
function changesOf(body: UpdateMeBody): { -readonly [K in keyof RecipientChanges]: RecipientChanges[K] } {
  const { email, phone, telegramChatId, webhookUrl, locale, timezone, channels, types } = body;
  return {
    ...(email !== undefined ? { email } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(telegramChatId !== undefined ? { telegramChatId } : {}),
    ...(webhookUrl !== undefined ? { webhookUrl } : {}),
    ...(locale !== undefined ? { locale } : {}),
    ...(timezone !== undefined ? { timezone } : {}),
    ...(body.quietHours !== undefined ? { quietHours: body.quietHours } : {}),
    ...(channels ? { channels: withoutInbox(channels) } : {}),
    ...(types ? { types: Object.fromEntries(Object.entries(types).map(([type, switches]) => [type, switches && withoutInbox(switches)])) } : {}),
  };
}

/**
 * The addresses a body sets that are to get a code (new ones, and ones still awaiting
 * confirmation), and the fields of those it sets again as they are, confirmed: nothing to do.
 */
function addressesToConfirm(current: Recipient, body: UpdateMeBody): { toSend: { channel: VerifiableChannel; address: string }[]; unchanged: Set<string> } {
  const toSend: { channel: VerifiableChannel; address: string }[] = [];
  const unchanged = new Set<string>();
  for (const channel of verifiableChannels) {
    const address = body[addressFields[channel]];
    if (typeof address !== 'string') continue;
    if (addressOn(current, channel) === address && hasVerifiedAddress(current, channel)) unchanged.add(addressFields[channel]);
    else toSend.push({ channel, address });
  }
  return { toSend, unchanged };
}

/**
 * What {@link updateMe} would refuse before it writes (400 naming the field, 404 not in the
 * directory, 429 past the hourly send limit), without writing: run before an idempotent `PATCH`
 * takes its key.
 */
export async function checkUpdateMe(deps: MeDeps, caller: Caller, body: UpdateMeBody): Promise<void> {
  refuseUnreachableWebhook(body.webhookUrl, deps.webhookTargets);
  const current = await getMe(deps, caller);
  const now = deps.clock.now();
  refuseTooManyTypes(current, applyRecipientChanges(caller.tenantId, caller.sub, current, changesOf(body), now));
  const { toSend } = addressesToConfirm(current, body);
  if (toSend.length === 0) return;
  const room = await deps.selfSend.check(caller, toSend.length, now);
  if (!room.ok) await takeSelfSends(deps, caller, toSend.length, now, toSend.map((c) => addressFields[c.channel]).join(', '));
}

/**
 * Sets the caller's addresses, locale, time zone and switches; what the body leaves out is kept. A
 * new address (or one still awaiting confirmation) is stored unconfirmed and sent a new code there:
 * by e-mail, by SMS, by the Telegram bot, or in a signed webhook. An e-mail or SMS code waits for
 * room in its provider's send budget; one that finds none soon is a 503 with `Retry-After`, the
 * change taken back: repeating the request (without an `Idempotency-Key`, or with a new one) sends
 * a new code.
 * @throws UnprocessableEntityError (422) naming each field whose provider (or webhook receiver)
 * refused its code for good, the change taken back; ServiceUnavailableError (503) for a code not
 * sent for now, the change taken back, with `retryAfterSeconds` when the provider said when, or
 * kept when its send got no answer (the code may have gone) (docs/limits.md).
 */
export async function updateMe(deps: MeDeps, caller: Caller, body: UpdateMeBody): Promise<Recipient> {
  refuseUnreachableWebhook(body.webhookUrl, deps.webhookTargets);
  const changes = changesOf(body);
  const codes: { channel: VerifiableChannel; address: string; code: string }[] = [];
  let unchanged = new Set<string>();
  if (verifiableChannels.some((channel) => typeof body[addressFields[channel]] === 'string')) {
    const current = await getMe(deps, caller);
    const now = deps.clock.now();
    const verifications: Partial<Record<VerifiableChannel, PendingVerification>> = {};
    const confirming = addressesToConfirm(current, body);
    unchanged = confirming.unchanged;
    for (const { channel, address } of confirming.toSend) {
      const code = newVerificationCode();
      verifications[channel] = pendingVerification({ tenantId: caller.tenantId, id: caller.sub }, channel, address, code, now);
      codes.push({ channel, address, code });
    }
    if (codes.length > 0) {
      // A change refused anyway spends none of the caller's sends.
      refuseTooManyTypes(current, applyRecipientChanges(caller.tenantId, caller.sub, current, changes, now));
      await takeSelfSends(deps, caller, codes.length, now, codes.map((c) => addressFields[c.channel]).join(', '));
      changes.verifications = verifications;
    }
  }
  const written = Object.fromEntries(Object.entries(changes).filter(([field]) => !unchanged.has(field))) as RecipientChanges;
  const owner = { tenantId: caller.tenantId, id: caller.sub };
  const { saved, replaced } = await changeMe(deps, caller, () => written);
  // The webhook's code first, once its hash is saved (a receiver may confirm it at once): a
  // receiver that refuses it, or cannot be reached, gets the record put back as it was.
  for (const { address, code } of codes.filter((c) => c.channel === 'webhook')) {
    const error = await deps.codes.send('webhook', address, code, owner).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error === undefined) continue;
    await takeBack(deps, replaced, saved);
    const refusal = receiverRefusal(error);
    if (refusal !== undefined) {
      // The user's own receiver said no: retrying would not help, fixing it would.
      const message = `${refusal}; nothing was kept: ${fixOf.webhook}, then set it again`;
      throw new UnprocessableEntityError(`webhookUrl ${message}`, { details: [{ field: 'webhookUrl', message }], cause: error });
    }
    throw new ServiceUnavailableError('Could not send the code to your webhookUrl; nothing was kept, repeat the request', { cause: error });
  }
  // The others go side by side: each may wait a few seconds for room in its provider's budget.
  const failures = (
    await Promise.all(
      codes
        .filter((c) => c.channel !== 'webhook')
        .map(({ channel, address, code }) => sendVerificationCode(deps, channel, address, code, owner).then(() => undefined, (error: unknown) => ({ channel, address, error }))),
    )
  ).filter((failure) => failure !== undefined);
  if (failures.length === 0) return saved;
  const refused = failures.flatMap(({ channel, address, error }) => {
    const why = addressRefusal(channel, address, error);
    return why === undefined ? [] : [{ field: addressFields[channel], message: `${why}; nothing was kept: ${fixOf[channel]}, then set it again`, error }];
  });
  const others = codes.length - failures.length > 0 ? ' (a code this request sent to another address will not confirm it)' : '';
  if (refused.length > 0) {
    // The provider will never take a code there: the user's to fix, so the change is taken back whole.
    await takeBack(deps, replaced, saved);
    throw new UnprocessableEntityError(`${refused.map((r) => `${r.field} ${r.message}`).join('; ')}${others}`, {
      details: refused.map(({ field, message }) => ({ field, message })),
      cause: refused[0]?.error,
    });
  }
  // Not sent for now: taken back too, so a confirmed address it replaced goes on receiving; unless
  // a code may have gone (the provider never answered), which the user may yet enter.
  const unknown = failures.find(({ channel, error }) => mayHaveGone(channel, error));
  if (unknown === undefined) await takeBack(deps, replaced, saved);
  const told = unknown ?? failures[0];
  throw codeNotSent(told?.channel ?? 'email', told?.error, unknown !== undefined, unknown === undefined ? others : '');
}

/** What a provider's error on a code's send means: Telegram's answers as its channel reads them (a 401 or 404 is the bot's token), the others' as any provider's. */
function classifyCodeError(channel: VerifiableChannel, error: unknown): ProviderVerdict {
  return channel === 'telegram' ? classifyTelegramError(error) : classifyProviderError(error);
}

/** True when the send of a code got no answer (a timeout, a dropped connection): it may have gone. */
function mayHaveGone(channel: VerifiableChannel, error: unknown): boolean {
  if (error instanceof CodeNotSentYetError) return false;
  return classifyCodeError(channel, error).kind === 'unknown';
}

/** How a user fixes an address whose provider refused its code. */
const fixOf: Readonly<Record<VerifiableChannel, string>> = {
  email: 'check the address',
  sms: 'check the number',
  telegram: "check the chat id, and that the chat has started Herald's bot",
  webhook: 'check the URL and the receiver',
};

/**
 * Why the provider will never deliver a code to `address`, in its own words, as retrying would
 * not change; undefined when it might later or when the fault is Herald's (its sender identity, its
 * token, its configuration): a 503 then. SES: `MessageRejected` for the address (in the SES
 * sandbox, "Email address is not verified. The following identities failed the check in region
 * …: <identities>", the user's address alone: any other identity named is Herald's own From,
 * Source or Return-Path), `InvalidParameterValue` naming the address. SNS: the number opted out
 * (`OptedOut`, CheckIfPhoneNumberIsOptedOut), `InvalidParameter` on `PhoneNumber`. Telegram: any
 * 403 (`bot was blocked by the user`, `bot can't initiate conversation with a user`, `bots can't
 * send messages to bots`), and a 400 about the chat (`chat not found`, `CHAT_RESTRICTED`) rather
 * than the text, which is Herald's.
 */
function addressRefusal(channel: VerifiableChannel, address: string, error: unknown): string | undefined {
  const verdict = classifyCodeError(channel, error);
  if (verdict.kind !== 'permanent' && verdict.kind !== 'gone') return undefined;
  const { name, message, $metadata } = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  // The provider's sentence, its full stop left to the answer's own punctuation.
  const text = typeof message === 'string' ? message.replace(/\.$/, '') : '';
  const names = (value: string): boolean => text.toLowerCase().includes(value.toLowerCase());
  switch (channel) {
    case 'email': {
      if (name === 'InvalidParameterValue') return names(address) ? `was refused by SES: ${text}` : undefined;
      if (name !== 'MessageRejected') return undefined;
      const identities = sesUnverifiedIdentities.exec(text)?.[1]?.split(/,\s*/);
      if (identities === undefined) return `was refused by SES: ${text}`;
      return identities.every((identity) => identity.trim().toLowerCase() === address.toLowerCase()) ? `was refused by SES: ${text}` : undefined;
    }
    case 'sms':
      if (name === 'OptedOut') return 'has opted out of SMS from Herald: nothing can be texted to it';
      return (name === 'InvalidParameterException' || name === 'InvalidParameter') && names('PhoneNumber') ? `was refused by SNS: ${text}` : undefined;
    case 'telegram': {
      const status = $metadata?.httpStatusCode;
      return status === 403 || (status === 400 && !telegramTextAnswer.test(text)) ? `was refused: ${text}` : undefined;
    }
    default:
      return undefined;
  }
}

/** The identities SES names in a `MessageRejected` for identities not verified (the sandbox, or Herald's own sender). */
const sesUnverifiedIdentities = /identities failed the check in region [^:]*:\s*(.+)$/i;

/** Telegram's 400s about the message's text, not the chat: Herald's, never the user's to fix. */
const telegramTextAnswer = /can't parse entities|message is too long|message text is empty|text must be non-empty|parse_mode/i;

/**
 * The 503 of a code that was not sent: the change taken back, repeat the request (when the
 * provider or the send budget said when, in `retryAfterSeconds`); or, `kept`, one whose send got no
 * answer: the address stays saved unconfirmed, as its code may have gone. `others`: what the answer
 * says of codes the same request sent elsewhere, void once the change is taken back.
 */
function codeNotSent(channel: VerifiableChannel, error: unknown, kept: boolean, others = ''): ServiceUnavailableError {
  const field = addressFields[channel];
  const later = (reason: string, seconds: number): ServiceUnavailableError =>
    new ServiceUnavailableError(`Your ${field}'s code could not be sent yet: ${reason}; nothing was kept${others}: repeat the request in ${seconds} s for a new code`, {
      retryAfterSeconds: seconds,
      cause: error,
    });
  if (error instanceof CodeNotSentYetError) return later(error.message, error.retryAfterSeconds);
  if (kept) {
    return new ServiceUnavailableError(`Your ${field} is saved, but whether its code was sent is not known: enter it if it comes, or set the address again for a new code`, { cause: error });
  }
  // Telegram's 429 (its codes have no budget of Herald's): when it says to, with its retry_after.
  const verdict = classifyCodeError(channel, error);
  if (verdict.kind === 'throttled') return later('the provider asked Herald to slow down', Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
  return new ServiceUnavailableError(`Your ${field}'s code could not be sent; nothing was kept${others}: repeat the request`, { cause: error });
}

/**
 * Takes back what a change whose code did not go (a webhook receiver or a provider refused it, or
 * it could not be sent for now) wrote: `before` and `saved` are the record before and after it. Field by field, and each
 * channel's pending confirmation, what still holds the value this change wrote gets `before`'s
 * again; what another write changed since is theirs and stays (a few tries against racing
 * writes, as each save is conditional). Failing to is logged: the address then stays unconfirmed,
 * which sends it nothing but codes.
 */
async function takeBack(deps: MeDeps, before: Recipient, saved: Recipient): Promise<void> {
  try {
    for (let attempt = 0; attempt < saveAttempts; attempt++) {
      const current = await deps.recipients.get(before.tenantId, before.id);
      const next = current && withChangeTakenBack(current, before, saved);
      if (current === undefined || next === undefined) return;
      // With no other write since, the record is as it was, its `updatedAt` included.
      const updatedAt = current.updatedAt === saved.updatedAt ? before.updatedAt : deps.clock.now().toISOString();
      if (await deps.recipients.save({ ...next, updatedAt }, current)) return;
    }
    logger.warn('Could not take back a change whose code did not go: the record kept changing', { tenantId: before.tenantId, recipientId: before.id });
  } catch (error) {
    logger.warn('Could not take back a change whose code did not go', { tenantId: before.tenantId, recipientId: before.id, error: error as Error });
  }
}

/** `current` with every field (and pending confirmation) still as `saved` has it put back as `before` had it; undefined when none is. */
function withChangeTakenBack(current: Recipient, before: Recipient, saved: Recipient): Recipient | undefined {
  const next: Record<string, unknown> = { ...current };
  const fieldsOf = (record: Recipient): Record<string, unknown> => record as unknown as Record<string, unknown>;
  let changed = false;
  const restore = (into: Record<string, unknown>, key: string, was: unknown, mine: unknown): void => {
    if (isDeepStrictEqual(mine, was) || !isDeepStrictEqual(into[key], mine)) return;
    // Absent before: left undefined here, and dropped below.
    into[key] = was;
    changed = true;
  };
  for (const key of new Set([...Object.keys(before), ...Object.keys(saved)])) {
    if (key === 'version' || key === 'updatedAt' || key === 'pendingVerifications') continue;
    restore(next, key, fieldsOf(before)[key], fieldsOf(saved)[key]);
  }
  const pending: Record<string, unknown> = { ...current.pendingVerifications };
  for (const channel of verifiableChannels) restore(pending, channel, before.pendingVerifications?.[channel], saved.pendingVerifications?.[channel]);
  if (!changed) return undefined;
  const defined = (record: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
  const stillPending = defined(pending);
  next.pendingVerifications = Object.keys(stillPending).length > 0 ? stillPending : undefined;
  return defined(next) as unknown as Recipient;
}

/**
 * Why a user's webhook URL will never take its code, as retrying would not change: its receiver
 * refused it (a 4xx but 408 and 429, which say "later"), answered a redirect (never followed), or
 * its address is one webhooks may not reach (a private address, found when sent). Undefined for
 * any other failure (a timeout, a 5xx, a provider's).
 */
function receiverRefusal(error: unknown): string | undefined {
  if (error instanceof WebhookTargetRefusedError) return `cannot be reached: ${error.message}`;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  if (typeof status !== 'number') return undefined;
  if (status >= 300 && status < 400) return `answered ${status}, a redirect, to its code (redirects are not followed)`;
  return status >= 400 && status < 500 && status !== 408 && status !== 429 ? `answered ${status} to its code` : undefined;
}

/** The switches of a body, the inbox (which the schema refuses to switch) left out. */
function withoutInbox(switches: Readonly<Record<string, boolean | undefined>>): ChannelPreferences {
  return Object.fromEntries(Object.entries(switches).filter(([channel, on]) => channel !== 'inbox' && on !== undefined)) as ChannelPreferences;
}

function codeRefused(message: string): ValidationError {
  return new ValidationError(`code ${message}`, { details: [{ field: 'code', message }] });
}

/**
 * Confirms the address awaiting confirmation on `body.channel` with the code sent there. A wrong
 * code uses up one of its tries (that write is the price of bounding guesses).
 */
export async function verifyContact(deps: MeDeps, caller: Caller, body: VerifyContactBody): Promise<Recipient> {
  const who = { tenantId: caller.tenantId, id: caller.sub };
  let refusal: ValidationError | undefined;
  const { saved } = await changeMe(deps, caller, (current) => {
    refusal = undefined;
    const pending = current.pendingVerifications?.[body.channel];
    if (!pending) {
      throw new ConflictError(`Your ${body.channel} address is not awaiting confirmation`, {
        details: [{ field: 'channel', message: 'has no address awaiting confirmation (set one with PATCH /v1/me)' }],
      });
    }
    const verdict = checkVerificationCode(who, body.channel, pending, body.code, deps.clock.now());
    if (verdict === 'confirmed') return { verifications: { [body.channel]: null } };
    if (verdict === 'expired') throw codeRefused('has expired: set the address again (PATCH /v1/me) for a new code');
    if (verdict === 'exhausted') throw codeRefused('was given wrong too many times: set the address again (PATCH /v1/me) for a new code');
    const attemptsLeft = pending.attemptsLeft - 1;
    refusal = codeRefused(attemptsLeft > 0 ? `is not the code that was sent (${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left)` : 'is not the code that was sent, and no tries are left: set the address again for a new code');
    return { verifications: { [body.channel]: { ...pending, attemptsLeft } } };
  });
  if (refusal) throw refusal;
  return saved;
}
