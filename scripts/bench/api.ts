/**
 * `npm run bench -- api [--seconds 5] [--rates 100,200,300,400,500,600,800]`: a mixed load on the
 * HTTP API of the local stack at rising rates.
 *
 * Each rate runs for `--seconds` as an open loop (requests leave on time whether or not earlier
 * ones returned; latency counts from when each was due): 30 % creates (one recipient, due in an
 * hour), 40 % reads of a notification, 15 % lists (a page of 20), 15 % cancels of a pending one.
 * A rate is held when at least 95 % of its requests completed within the run, its p99 is under
 * 200 ms and nothing failed. The reference, in the same run: `GET /health` at the same rate (the
 * same gateway, token check and function, without the work).
 * Figures only: nothing here passes or fails on speed.
 */
import { parseArgs } from 'node:util';
import { numberListOption, numberOption } from './format.ts';
import { number, openLoop, percentile, registerRecipients, startBenchStack } from './support.ts';
import type { LoadResult } from './support.ts';

/** How to call the API benchmark. */
export const apiUsage = 'npm run bench -- api [--seconds 5] [--rates 100,200,300,400,500,600,800]';

const p99TargetMs = 200;

type Kind = 'create' | 'read' | 'list' | 'cancel';

/** The mix, in twentieths: 6 creates, 8 reads, 3 lists, 3 cancels. */
const mix: readonly Kind[] = [
  ...Array<Kind>(6).fill('create'),
  ...Array<Kind>(8).fill('read'),
  ...Array<Kind>(3).fill('list'),
  ...Array<Kind>(3).fill('cancel'),
];

function parseOptions(args: readonly string[]): { seconds: number; rates: number[] } {
  const { values } = parseArgs({
    args: [...args],
    options: { seconds: { type: 'string', default: '5' }, rates: { type: 'string', default: '100,200,300,400,500,600,800' } },
  });
  const seconds = numberOption('seconds', values.seconds, apiUsage);
  const rates = numberListOption('rates', values.rates, apiUsage);
  return { seconds, rates };
}

function held(result: LoadResult, rate: number, seconds: number): boolean {
  return result.errors === 0 && result.completed >= 0.95 * rate * seconds && percentile(result.latencies, 99) < p99TargetMs;
}

/** Runs the API benchmark with the command line's arguments; resolves with the exit code. */
export async function runApiBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const bench = await startBenchStack('api');
  try {
    const admin = await bench.token('bench-admin', 'admin');
    const recipients = Array.from({ length: 100 }, (_, i) => `api-${String(i).padStart(3, '0')}`);
    await registerRecipients(bench, admin, recipients.map((id) => ({ id })));

    /** Every notification created so far, and those still pending (to cancel). */
    const created: string[] = [];
    const pending: string[] = [];
    const create = async (n: number): Promise<boolean> => {
      const response = await bench.api<{ notificationIds: string[] }>('POST', '/v1/notifications', admin, {
        recipients: [recipients[n % recipients.length] as string],
        title: 'API benchmark',
        message: 'Due in an hour.',
        scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
        channels: ['inbox', 'websocket'],
      });
      if (response.status !== 201) return false;
      created.push(...response.body.notificationIds);
      pending.push(...response.body.notificationIds);
      return true;
    };
    const calls: Readonly<Record<Kind, (n: number) => Promise<boolean>>> = {
      create,
      read: async (n) => {
        const id = created[(n * 7919) % created.length];
        return (await bench.api('GET', `/v1/notifications/${id}`, admin)).status === 200;
      },
      list: async () => (await bench.api('GET', '/v1/notifications?limit=20', admin)).status === 200,
      cancel: async (n) => {
        const id = pending.pop();
        if (id === undefined) return create(n);
        return (await bench.api('DELETE', `/v1/notifications/${id}`, admin)).status === 200;
      },
    };
    const mixed = (n: number): Promise<boolean> => calls[mix[n % mix.length] as Kind](n);
    const health = async (): Promise<boolean> => (await bench.api('GET', '/health', admin)).status === 200;
    // A pool to read and cancel, and a warm function.
    for (let i = 0; i < 200; i++) await create(i);
    await openLoop(50, 1, health);

    console.log(`Mixed API load (30 % create, 40 % read, 15 % list, 15 % cancel), ${number(options.seconds)} s per rate, open loop`);
    console.log(
      `${'rate'.padStart(6)} ${'done/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'errors'.padStart(7)}  ${'held'.padEnd(5)} ${'/health done/s'.padStart(15)} ${'/health p99'.padStart(12)}`,
    );
    let best: { rate: number; p99: number; healthP99: number } | undefined;
    for (const rate of options.rates) {
      const reference = await openLoop(rate, Math.min(options.seconds, 3), health);
      const result = await openLoop(rate, options.seconds, mixed);
      const p99 = percentile(result.latencies, 99);
      const healthP99 = percentile(reference.latencies, 99);
      const ok = held(result, rate, options.seconds);
      if (ok) best = { rate, p99, healthP99 };
      console.log(
        `${number(rate).padStart(6)} ${number(result.completed / result.seconds).padStart(8)} ${`${number(percentile(result.latencies, 50))} ms`.padStart(8)} ${`${number(p99)} ms`.padStart(8)} ${String(result.errors).padStart(7)}  ${(ok ? 'yes' : 'no').padEnd(5)} ${number(reference.completed / reference.seconds).padStart(15)} ${`${number(healthP99)} ms`.padStart(12)}`,
      );
      if (result.firstError) console.log(`${''.padStart(6)} first error: ${result.firstError}`);
    }
    console.log('');
    console.log(
      best
        ? `Highest rate held: ${number(best.rate)} req/s, p99 ${number(best.p99)} ms, no errors (/health at that rate: p99 ${number(best.healthP99)} ms).`
        : 'No rate was held.',
    );
    console.log('Held: >= 95 % of the requests done within the run, p99 < 200 ms, no errors. Target (issue 8): >= 500 req/s held.');
    return 0;
  } finally {
    await bench.close();
  }
}
