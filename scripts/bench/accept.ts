/**
 * `npm run bench -- accept [--seconds 5] [--recipients 100] [--concurrency 1,2,4,8,16]`: how many
 * notifications per second `POST /v1/notifications` accepts on the local stack.
 *
 * Registers the recipients, then at each concurrency keeps that many requests of `--recipients`
 * recipients each in flight for `--seconds` (each due an hour ahead, so each request makes its
 * schedule), and prints notifications accepted per second, requests per second, latency
 * percentiles and errors, and the main thread's live heap per notification accepted (after a full
 * GC, before and after). The reference, at the same concurrency in the same run: `GET /health`
 * (the same gateway, token check and function, without the work) in requests per second.
 * Figures only: nothing here passes or fails on speed.
 */
import { parseArgs } from 'node:util';
import { megabytes, numberListOption, numberOption } from './format.ts';
import { closedLoop, liveMainHeap, number, percentile, registerRecipients, startBenchStack } from './support.ts';

/** How to call the accept benchmark. */
export const acceptUsage = 'npm run bench -- accept [--seconds 5] [--recipients 100] [--concurrency 1,2,4,8,16]';

function parseOptions(args: readonly string[]): { seconds: number; recipients: number; levels: number[] } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seconds: { type: 'string', default: '5' },
      recipients: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '1,2,4,8,16' },
    },
  });
  const seconds = numberOption('seconds', values.seconds, acceptUsage);
  const recipients = numberOption('recipients', values.recipients, acceptUsage, { integer: true, max: 1000 });
  const levels = numberListOption('concurrency', values.concurrency, acceptUsage, { integer: true });
  return { seconds, recipients, levels };
}

/** Runs the accept benchmark with the command line's arguments; resolves with the exit code (1 when any request failed). */
export async function runAcceptBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const bench = await startBenchStack('accept');
  try {
    const admin = await bench.token('bench-admin', 'admin');
    const recipients = Array.from({ length: options.recipients }, (_, i) => `accept-${String(i).padStart(4, '0')}`);
    await registerRecipients(bench, admin, recipients.map((id) => ({ id })));
    const create = async (): Promise<boolean> => {
      const created = await bench.api('POST', '/v1/notifications', admin, {
        recipients,
        title: 'Accept benchmark',
        message: 'One notification per recipient, due in an hour.',
        scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
        channels: ['inbox', 'websocket'],
      });
      return created.status === 201;
    };
    const health = async (): Promise<boolean> => (await bench.api('GET', '/health', admin)).status === 200;
    // Warm-up: every module loaded, every client connected.
    await closedLoop(2, 1, create);
    await closedLoop(2, 1, health);

    const liveBefore = liveMainHeap();
    let accepted = 0;
    console.log(`POST /v1/notifications with ${options.recipients} recipients each, ${number(options.seconds)} s per level`);
    console.log(
      `${'concurrency'.padStart(11)} ${'notifications/s'.padStart(16)} ${'requests/s'.padStart(11)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'errors'.padStart(7)} ${'/health req/s'.padStart(14)} ${'ratio'.padStart(7)}`,
    );
    let best = { perSecond: 0, concurrency: 0, health: 0 };
    let failures = 0;
    for (const concurrency of options.levels) {
      const reference = await closedLoop(concurrency, Math.min(options.seconds, 3), health);
      const result = await closedLoop(concurrency, options.seconds, create);
      const requestsPerSecond = result.completed / result.seconds;
      const perSecond = requestsPerSecond * options.recipients;
      const healthPerSecond = reference.completed / reference.seconds;
      failures += result.errors;
      accepted += result.completed * options.recipients;
      if (perSecond > best.perSecond) best = { perSecond, concurrency, health: healthPerSecond };
      console.log(
        `${String(concurrency).padStart(11)} ${number(perSecond).padStart(16)} ${number(requestsPerSecond, 1).padStart(11)} ${`${number(percentile(result.latencies, 50))} ms`.padStart(8)} ${`${number(percentile(result.latencies, 99))} ms`.padStart(8)} ${String(result.errors).padStart(7)} ${number(healthPerSecond).padStart(14)} ${`${number(requestsPerSecond / healthPerSecond, 3)}`.padStart(7)}`,
      );
      if (result.firstError) console.log(`${''.padStart(11)} first error: ${result.firstError}`);
    }
    console.log('');
    console.log(`Peak: ${number(best.perSecond)} notifications/s accepted at concurrency ${best.concurrency} (/health at that concurrency: ${number(best.health)} req/s in the same run).`);
    console.log('Ratio: create requests per second over /health requests per second. Target (issue 8): >= 3,000 notifications/s.');
    const live = liveMainHeap();
    console.log(
      `Memory: the main thread's live heap after a full GC went from ${megabytes(liveBefore)} to ${megabytes(live)} with ${number(accepted)} notifications pending (${number((live - liveBefore) / Math.max(1, accepted) / 1024, 1)} KB each: the item and its index entries, its stream record, its share of a schedule).`,
    );
    return failures > 0 ? 1 : 0;
  } finally {
    await bench.close();
  }
}
