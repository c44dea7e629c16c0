/** `herald broadcast` and `herald progress`: one announcement to many, followed to the end. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { HeraldClient, HeraldSchema } from '../../client/index.ts';
import { progressBar } from '../progress.ts';
import { clientOf, expectData, list, listOfOption, oneOfOption, parseWhen, print, UsageError, wholeNumberOption } from '../target.ts';
import type { GlobalOptions } from '../target.ts';
import { channels, priorities } from '../../shared/domain/notification.ts';

type Broadcast = HeraldSchema<'Broadcast'>;
type Channel = NonNullable<HeraldSchema<'CreateBroadcastRequest'>['channels']>[number];
type Priority = NonNullable<HeraldSchema<'CreateBroadcastRequest'>['priority']>;

/**
 * True once nothing more will happen to the broadcast by itself, so its figures are final: it
 * completed or failed; or it was cancelled and either never started or has settled its last
 * recipient (its `completedAt`). A broadcast cancelled mid-run is still cancelling its pending
 * recipients, and a worker may still finish a round it claimed before the cancel (the server's
 * `isFinished`, shared/domain/broadcast.ts, read from the public view).
 */
export function hasFinished(b: Pick<Broadcast, 'status' | 'startedAt' | 'completedAt'>): boolean {
  if (b.status === 'completed' || b.status === 'failed') return true;
  return b.status === 'cancelled' && (b.startedAt === null || b.completedAt !== null);
}

function summary(b: Broadcast): string {
  const p = b.progress;
  return `${b.id}  ${b.status}: ${p.sent} sent, ${p.failed} failed, ${p.cancelled} cancelled, ${p.pending} pending of ${p.total} (${p.percent}%)`;
}

/**
 * What the progress shows beside the counts: the broadcast's status, and how many recipients its
 * quiet hours hold (they may wait for hours, which would otherwise look like a hang).
 */
export function progressLabel(b: Pick<Broadcast, 'status' | 'progress'>): string {
  return b.progress.held > 0 ? `${b.status}, ${b.progress.held} held by quiet hours` : b.status;
}

/**
 * Polls the broadcast every `intervalMs` until it has finished, drawing its progress; resolves with
 * its last state. `signal` ends it early (Ctrl-C), with the last state read.
 */
export async function follow(client: HeraldClient, id: string, options: { quiet: boolean; intervalMs: number; signal?: AbortSignal }): Promise<Broadcast> {
  const bar = progressBar(id, options.quiet);
  const interrupted = (): boolean => options.signal?.aborted === true;
  try {
    for (;;) {
      const broadcast = expectData(await client.GET('/v1/broadcasts/{id}', { params: { path: { id } } }));
      const { progress } = broadcast;
      bar.update(progress.sent + progress.failed + progress.cancelled, progress.total, progressLabel(broadcast));
      // A draft goes nowhere until it is scheduled: there is nothing to follow.
      if (hasFinished(broadcast) || broadcast.status === 'draft' || interrupted()) return broadcast;
      await sleep(options.intervalMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      if (interrupted()) return broadcast;
    }
  } finally {
    bar.stop();
  }
}

/**
 * Follows the broadcast to its end and prints its last state. Ctrl-C, which a quiet-hours hold can
 * make the only way out for hours, ends the follow instead of the process: the last state seen is
 * printed on stdout (its id first, so a script that captures it keeps the broadcast), and the exit
 * code is 130, as a shell reports an interrupt.
 */
async function followAndPrint(global: GlobalOptions, client: HeraldClient, id: string, intervalMs: number): Promise<void> {
  const interrupt = new AbortController();
  const onInterrupt = (): void => interrupt.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const followed = await follow(client, id, { quiet: global.json === true, intervalMs, signal: interrupt.signal });
    print(global, followed, summary);
    if (interrupt.signal.aborted) process.exitCode = 130;
    else endedAs(followed);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** The audience one of `--all`, `--groups`, `--recipients` names; a UsageError unless exactly one is given. */
export function audienceOf(options: { all?: boolean; groups?: string; recipients?: string }): HeraldSchema<'CreateBroadcastRequest'>['audience'] {
  const given = [options.all, options.groups, options.recipients].filter((option) => option !== undefined).length;
  if (given !== 1) throw new UsageError('say who hears it with exactly one of --all, --groups <list>, --recipients <list>');
  if (options.all) return { all: true };
  const option = options.groups !== undefined ? '--groups' : '--recipients';
  const named = list(options.groups ?? options.recipients ?? '');
  if (named.length === 0) throw new UsageError(`${option} names nobody: give a comma-separated list`);
  return options.groups !== undefined ? { groups: named } : { recipientIds: named };
}

/** Adds the broadcast commands to `program`. */
export function addBroadcastCommands(program: Command): void {
  program
    .command('broadcast')
    .description('send one announcement to the tenant, to groups or to a list (--wait follows it)')
    .requiredOption('--title <text>', 'one line')
    .requiredOption('--message <text>', 'the body')
    .option('--all', 'everyone in the tenant')
    .option('--groups <list>', 'comma-separated groups')
    .option('--recipients <list>', 'comma-separated recipient ids (at most 1,000)')
    .option('--at <when>', 'ISO 8601 with seconds and an offset, or +30s, +10m, +2h, +1d from now (default: now)')
    .option('--channels <list>', `comma-separated: ${channels.join(', ')}`, listOfOption(channels))
    .option('--priority <priority>', priorities.join(', '), oneOfOption(priorities))
    .option('--draft', 'keep it as a draft: nothing goes out until POST /v1/broadcasts/{id}/schedule')
    .option('--idempotency-key <key>', 'the same key never creates two broadcasts')
    .option('--wait', 'follow its progress until it has finished')
    .action(
      async (
        options: { title: string; message: string; all?: boolean; groups?: string; recipients?: string; at?: string; channels?: Channel[]; priority?: Priority; draft?: boolean; idempotencyKey?: string; wait?: boolean },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const client = clientOf(global);
        const created = expectData(
          await client.POST('/v1/broadcasts', {
            ...(options.idempotencyKey ? { params: { header: { 'Idempotency-Key': options.idempotencyKey } } } : {}),
            body: {
              audience: audienceOf(options),
              title: options.title,
              message: options.message,
              ...(options.at ? { scheduledAt: parseWhen(options.at) } : {}),
              ...(options.channels ? { channels: options.channels } : {}),
              ...(options.priority ? { priority: options.priority } : {}),
              ...(options.draft ? { draft: true } : {}),
            },
          }),
        );
        if (!options.wait) {
          print(global, created, (c) => `${c.broadcastId}  ${c.status}`);
          return;
        }
        await followAndPrint(global, client, created.broadcastId, 500);
      },
    );

  program
    .command('progress')
    .description("follow a broadcast's progress with a bar until it has finished")
    .argument('<id>', 'broadcast id (brd_...)')
    .option('--interval <ms>', 'how often to look, in ms', wholeNumberOption(100), 500)
    .action(async (id: string, options: { interval: number }, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>();
      await followAndPrint(global, clientOf(global), id, options.interval);
    });
}

/** Exits 1 once the output is written when the broadcast followed ended `failed` (nobody got it), as a script checking `$?` expects. */
function endedAs(broadcast: Broadcast): void {
  if (broadcast.status === 'failed') process.exitCode = 1;
}
