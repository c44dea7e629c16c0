/** `herald notify | get | list | cancel | reschedule`: one notification per recipient, on `/v1/notifications`. */
import type { Command } from 'commander';
import type { HeraldSchema } from '../../client/index.ts';
import { clientOf, expectData, instantOption, listOfOption, oneOfOption, parseWhen, print, UsageError, wholeNumberOption } from '../target.ts';
import type { GlobalOptions } from '../target.ts';
import { channels, notificationStatuses, priorities } from '../../shared/domain/notification.ts';

type Channel = NonNullable<HeraldSchema<'CreateNotificationsRequest'>['channels']>[number];
type Priority = NonNullable<HeraldSchema<'CreateNotificationsRequest'>['priority']>;
type Status = HeraldSchema<'Notification'>['status'];

/** A JSON object option (`--data '{"amount":12}'`). */
function jsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--data must be a JSON object: ${text}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--data must be a JSON object: ${text}`);
  return value as Record<string, unknown>;
}

/**
 * `herald get` as text: besides status and outcomes, why a pending one past its time has not gone
 * out yet (held by the recipient's quiet hours, or waiting to be tried again).
 */
export function describeNotification(n: HeraldSchema<'Notification'>): string[] {
  // An operator's token reads the provider's text; a plain user's, its category only.
  const deliveries = Object.entries(n.deliveries ?? {}).map(([channel, outcome]) => {
    const why = ('error' in outcome ? outcome.error : undefined) ?? outcome.errorCategory;
    return `${channel} ${outcome.status}${why ? ` (${why})` : ''}`;
  });
  const lastError = ('lastError' in n ? n.lastError : null) ?? n.lastErrorCategory;
  return [
    `${n.id}  ${n.status}`,
    `  to         ${n.recipientId}`,
    `  title      ${n.title}`,
    `  scheduled  ${n.scheduledAt}${n.localScheduledAt ? ` (${n.localScheduledAt}${n.timezone ? ` in ${n.timezone}` : ''})` : ''}${n.sentAt ? `  sent ${n.sentAt}` : ''}`,
    ...(n.heldUntil ? [`  held       until ${n.heldUntil}${n.heldReason ? ` (${n.heldReason})` : ''}`] : []),
    `  attempts   ${n.attempts}${lastError ? `  last error: ${lastError}` : ''}`,
    ...(n.nextAttemptAt ? [`  next try   ${n.nextAttemptAt}`] : []),
    ...(deliveries.length > 0 ? [`  channels   ${deliveries.join(', ')}`] : []),
  ];
}

/** One notification of `herald list`, as one line: a held one says until when. */
export function listLine(n: HeraldSchema<'Notification'>): string {
  return `${n.id}  ${n.status.padEnd(9)}  ${n.scheduledAt}  ${n.recipientId}  ${n.title}${n.heldUntil ? `  (held until ${n.heldUntil})` : ''}`;
}

/**
 * A page of `herald list` as text: a line per notification, a line saying none matched when the page
 * is empty (rather than a blank line), and the command for the next page when there is one.
 */
export function listPageLines(
  page: { items: readonly HeraldSchema<'Notification'>[]; nextCursor: string | null },
  options: { status?: string; recipient?: string; type?: string; from?: string; to?: string; limit?: number },
): string[] {
  const flags = listFlags(options);
  const none = page.nextCursor ? 'none on this page' : flags ? `no notifications match ${flags.trimEnd()}` : 'no notifications';
  return [
    ...(page.items.length > 0 ? page.items.map(listLine) : [none]),
    // The cursor belongs to these filters: the next page is asked with the same ones.
    ...(page.nextCursor ? [`more: herald list ${flags}--cursor ${page.nextCursor}`] : []),
  ];
}

/** The filters of a `list` as command-line flags, each followed by a space (`--status sent `); values are quoted for a shell. */
export function listFlags(options: { status?: string; recipient?: string; type?: string; from?: string; to?: string; limit?: number }): string {
  const quoted = (value: string): string => (/^[\w.:@+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  return (['status', 'recipient', 'type', 'from', 'to', 'limit'] as const)
    .flatMap((name) => (options[name] === undefined ? [] : [`--${name} ${quoted(String(options[name]))} `]))
    .join('');
}

/** Adds the notification commands to `program`. */
export function addNotificationCommands(program: Command): void {
  program
    .command('notify')
    .description('schedule a notification to each recipient (now, or --at a time)')
    .argument('<recipients...>', 'recipient ids')
    .requiredOption('--title <text>', 'one line')
    .requiredOption('--message <text>', 'the body')
    .option('--at <when>', 'ISO 8601 with seconds and an offset, or +30s, +10m, +2h, +1d from now (default: now)')
    .option('--channels <list>', `comma-separated: ${channels.join(', ')}`, listOfOption(channels))
    .option('--priority <priority>', priorities.join(', '), oneOfOption(priorities))
    .option('--type <type>', 'your type of notification')
    .option('--data <json>', 'a JSON object delivered with it')
    .action(async (recipients: string[], options: { title: string; message: string; at?: string; channels?: Channel[]; priority?: Priority; type?: string; data?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const created = expectData(
        await clientOf(global).POST('/v1/notifications', {
          body: {
            recipients,
            title: options.title,
            message: options.message,
            ...(options.at ? { scheduledAt: parseWhen(options.at) } : {}),
            ...(options.channels ? { channels: options.channels } : {}),
            ...(options.priority ? { priority: options.priority } : {}),
            ...(options.type ? { type: options.type } : {}),
            ...(options.data ? { data: jsonObject(options.data) } : {}),
          },
        }),
      );
      print(global, created, (c) => [...c.notificationIds.map((id) => `${id}  scheduled for ${c.scheduledAt}`)]);
    });

  program
    .command('get')
    .description("a notification: its status, attempts, each channel's outcome, and the quiet-hours hold or retry it waits for")
    .argument('<id>', 'notification id (ntf_...)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      print(global, expectData(await clientOf(global).GET('/v1/notifications/{id}', { params: { path: { id } } })), describeNotification);
    });

  program
    .command('list')
    .description('notifications, newest first (an admin sees the tenant, a sender what it created)')
    .option('--status <status>', notificationStatuses.join(', '), oneOfOption(notificationStatuses))
    .option('--recipient <id>', 'only those to this recipient')
    .option('--type <type>', 'only this type')
    .option('--from <when>', 'created at or after (ISO 8601 with seconds and an offset)', instantOption())
    .option('--to <when>', 'created before (ISO 8601 with seconds and an offset)', instantOption())
    .option('--limit <n>', 'at most this many on the page', wholeNumberOption(1))
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(async (options: { status?: Status; recipient?: string; type?: string; from?: string; to?: string; limit?: number; cursor?: string }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const query = {
        ...(options.status ? { status: options.status } : {}),
        ...(options.recipient ? { recipientId: options.recipient } : {}),
        ...(options.type ? { type: options.type } : {}),
        ...(options.from ? { from: options.from } : {}),
        ...(options.to ? { to: options.to } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
      };
      const page = expectData(await clientOf(global).GET('/v1/notifications', { params: { query } }));
      print(global, page, (p) => listPageLines(p, options));
    });

  program
    .command('cancel')
    .description('cancel a pending notification: nothing delivers it once this answers')
    .argument('<id>', 'notification id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const cancelled = expectData(await clientOf(global).DELETE('/v1/notifications/{id}', { params: { path: { id } } }));
      print(global, cancelled, (c) => `${c.notificationId}  ${c.status}`);
    });

  program
    .command('reschedule')
    .description('move a pending notification to another time')
    .argument('<id>', 'notification id')
    .argument('<when>', 'ISO 8601 with seconds and an offset, or +30s, +10m, +2h, +1d from now (not from its current time)')
    .action(async (id: string, when: string, _options: unknown, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      const moved = expectData(
        await clientOf(global).PATCH('/v1/notifications/{id}', { params: { path: { id } }, body: { scheduledAt: parseWhen(when) } }),
      );
      print(global, moved, (n) => `${n.id}  ${n.status}  now at ${n.scheduledAt}`);
    });
}
