/**
 * `npm run bench -- lateness [--spread 300] [--burst 1000]`: how late notifications arrive, from
 * their `scheduledAt` to their WebSocket frame, on the local stack. Two workloads:
 * - spread: notifications at random fractional-second times over 60 s, to 50 connected users, one
 *   request each;
 * - burst: notifications due at the same second, in requests of 100 recipients, to 200 users.
 * Every notification is created before the first of its workload is due, and one notification is
 * delivered before the workloads (a cold start is the bundles benchmark's figure), so the figures
 * are the delivery path's alone. The reference, measured in the same run: timers of this very process set
 * for the same instants, i.e. how late this machine's event loop alone is. Each workload also
 * prints the CPU, the functions' AWS calls and the DynamoDB entries written (items and index
 * entries, every caller's) per delivery, from its first due time.
 * Figures only: nothing here passes or fails on speed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { mapLimited } from '../../shared/use-cases/map-limited.ts';
import type { ApiCallCounts } from '../../local/api-call-counter.ts';
import type { StoreWrites } from '../../local/dynamodb/write-counter.ts';
import { numberOption } from './format.ts';
import { listen, number, percentile, registerRecipients, startBenchStack, waitUntil } from './support.ts';
import type { BenchStack, FrameListener } from './support.ts';

/** How to call the lateness benchmark. */
export const latenessUsage = 'npm run bench -- lateness [--spread 300] [--burst 1000]';

interface Workload {
  readonly name: string;
  /** When each request's notifications are due (epoch ms), and to whom. */
  readonly plan: readonly { readonly at: number; readonly recipients: readonly string[] }[];
}

interface Figures {
  readonly delivered: number;
  readonly expected: number;
  readonly lateness: number[];
  readonly reference: number[];
  /** How long before the first due time the last request was answered (ms; negative: too late). */
  readonly createdAhead: number;
  /** CPU time of the whole process (every thread) from the first due time to the last arrival (ms). */
  readonly cpuMs: number;
  /** The functions' AWS calls over the same span, by service and operation. */
  readonly calls: ApiCallCounts;
  /** The DynamoDB entries written over the same span (items, index entries), by every caller. */
  readonly writes: StoreWrites;
}

/** Requests in flight while a workload is created. */
const createConcurrency = 8;

function stats(values: readonly number[]): string {
  if (values.length === 0) return 'none';
  return `p50 ${number(percentile(values, 50))} ms  p99 ${number(percentile(values, 99))} ms  max ${number(Math.max(...values))} ms  min ${number(Math.min(...values))} ms`;
}

/** Runs a workload: each entry is one POST /v1/notifications; frames are matched by id. */
async function run(bench: BenchStack, admin: string, workload: Workload, arrivals: Map<string, number>): Promise<Figures> {
  const due = new Map<string, number>();
  const reference: number[] = [];
  await mapLimited(workload.plan, createConcurrency, async ({ at, recipients }) => {
    const created = await bench.api<{ notificationIds: string[] }>('POST', '/v1/notifications', admin, {
      recipients,
      title: workload.name,
      message: `due at ${new Date(at).toISOString()}`,
      scheduledAt: new Date(at).toISOString(),
      channels: ['inbox', 'websocket'],
    });
    if (created.status !== 201) throw new Error(`POST /v1/notifications answered ${created.status}: ${JSON.stringify(created.body)}`);
    for (const id of created.body.notificationIds) due.set(id, at);
    // The reference: a timer of this process for the same instant.
    setTimeout(() => reference.push(Date.now() - at), at - Date.now());
  });
  const first = Math.min(...workload.plan.map((p) => p.at));
  const createdAhead = first - Date.now();
  const last = Math.max(...workload.plan.map((p) => p.at));
  // The delivery's CPU, apart from the creates': counted from the first due time (a schedule or
  // delayed message held before it costs next to nothing).
  if (createdAhead > 0) await sleep(createdAhead);
  const cpuAtFirst = process.cpuUsage();
  bench.stack.apiCalls.reset();
  const writesAtFirst = bench.stack.dynamodbWrites();
  await waitUntil(() => [...due.keys()].every((id) => arrivals.has(id)), last - Date.now() + 60_000);
  const cpu = process.cpuUsage(cpuAtFirst);
  const calls = bench.stack.apiCalls.snapshot();
  const writesAtLast = bench.stack.dynamodbWrites();
  const writes = { tableItems: writesAtLast.tableItems - writesAtFirst.tableItems, indexEntries: writesAtLast.indexEntries - writesAtFirst.indexEntries };
  const lateness = [...due].flatMap(([id, at]) => (arrivals.has(id) ? [(arrivals.get(id) as number) - at] : []));
  return { delivered: lateness.length, expected: due.size, lateness, reference, createdAhead, cpuMs: (cpu.user + cpu.system) / 1000, calls, writes };
}

function report(name: string, figures: Figures): void {
  const early = figures.lateness.filter((ms) => ms < 0).length;
  const p99 = percentile(figures.lateness, 99);
  const referenceP99 = percentile(figures.reference, 99);
  console.log(`${name}`);
  console.log(`  delivered                 ${number(figures.delivered)} of ${number(figures.expected)}`);
  console.log(`  lateness (WebSocket)      ${stats(figures.lateness)}`);
  console.log(`  early (before their time) ${number(early)}`);
  console.log(`  reference (local timers)  ${stats(figures.reference)}`);
  console.log(`  p99 over the reference's  ${number(p99 - referenceP99)} ms`);
  const per = Math.max(1, figures.delivered);
  console.log(`  CPU per delivery          ${number(figures.cpuMs / per, 2)} ms (${number(figures.cpuMs / 1000, 1)} s of CPU, every thread, from the first due time)`);
  const calls = Object.entries(figures.calls)
    .flatMap(([service, ops]) => Object.entries(ops).map(([operation, count]) => ({ name: `${service} ${operation}`, count })))
    .sort((a, b) => b.count - a.count);
  const total = calls.reduce((sum, row) => sum + row.count, 0);
  console.log(`  AWS calls per delivery    ${number(total / per, 2)}: ${calls.map((row) => `${row.name} ${number(row.count / per, 2)}`).join(', ')}`);
  console.log(
    `  DynamoDB writes per delivery ${number((figures.writes.tableItems + figures.writes.indexEntries) / per, 2)}: ${number(figures.writes.tableItems / per, 2)} items and ${number(figures.writes.indexEntries / per, 2)} index entries`,
  );
  if (figures.createdAhead < 0) console.log(`  note: the last request was answered ${number(-figures.createdAhead)} ms after the first was due`);
}

function parseOptions(args: readonly string[]): { spread: number; burst: number } {
  const { values } = parseArgs({ args: [...args], options: { spread: { type: 'string', default: '300' }, burst: { type: 'string', default: '1000' } } });
  const spread = numberOption('spread', values.spread, latenessUsage, { integer: true });
  // The burst goes in requests of 100 recipients each.
  const burst = numberOption('burst', values.burst, latenessUsage, { integer: true, min: 100, multipleOf: 100 });
  return { spread, burst };
}

/** Runs both workloads on one local stack and prints their figures; resolves with the exit code (1 when some never arrived). */
export async function runLatenessBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const bench = await startBenchStack('lateness');
  const listeners: FrameListener[] = [];
  try {
    const admin = await bench.token('bench-admin', 'admin');
    const users = Array.from({ length: 200 }, (_, i) => `late-${String(i).padStart(3, '0')}`);
    await registerRecipients(bench, admin, users.map((id) => ({ id })));
    const arrivals = new Map<string, number>();
    for (const user of users) listeners.push(await listen(bench.stack.wsUrl, await bench.token(user), arrivals));
    // One delivery first: a function's cold start is the bundles benchmark's figure, not this one's.
    const warmUp = await bench.api<{ notificationIds: string[] }>('POST', '/v1/notifications', admin, {
      recipients: [users[0] as string],
      title: 'Warm-up',
      message: 'Due now.',
      channels: ['inbox', 'websocket'],
    });
    const [warmUpId] = warmUp.body.notificationIds;
    if (!(await waitUntil(() => arrivals.has(warmUpId ?? ''), 30_000))) throw new Error('The warm-up notification never arrived');

    // Far enough ahead that every request is answered before the first is due.
    const start = Date.now() + 5_000 + options.spread * 20;
    const spread: Workload = {
      name: `Spread: ${number(options.spread)} notifications over 60 s (fractional seconds), 50 users`,
      plan: Array.from({ length: options.spread }, (_, i) => ({ at: start + Math.round(Math.random() * 60_000), recipients: [users[i % 50] as string] })),
    };
    console.log(`Running "${spread.name}" (about ${number((start - Date.now()) / 1000 + 65)} s)...`);
    const spreadFigures = await run(bench, admin, spread, arrivals);

    const requests = options.burst / 100;
    const burstAt = Math.ceil((Date.now() + 5_000 + requests * 300) / 1000) * 1000;
    const burst: Workload = {
      name: `Burst: ${number(options.burst)} notifications due at the same second (${requests} requests x 100 recipients), 200 users`,
      plan: Array.from({ length: requests }, (_, r) => ({ at: burstAt, recipients: Array.from({ length: 100 }, (_, i) => users[(r * 100 + i) % users.length] as string) })),
    };
    console.log(`Running "${burst.name}"...`);
    const burstFigures = await run(bench, admin, burst, arrivals);

    console.log('');
    console.log('Delivery lateness on the local stack (from scheduledAt to the WebSocket frame; negative is early)');
    report(spread.name, spreadFigures);
    report(burst.name, burstFigures);
    const lastBurst = burstFigures.lateness.length > 0 ? Math.max(...burstFigures.lateness) : Number.NaN;
    console.log(`  all delivered within      ${number(lastBurst / 1000, 2)} s of their time`);
    console.log('Targets (issue 8): spread p99 <= 250 ms and none early; burst all within 5 s.');
    return spreadFigures.delivered === spreadFigures.expected && burstFigures.delivered === burstFigures.expected ? 0 : 1;
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
    await bench.close();
  }
}
