/**
 * `npm run bench -- lateness`: how late notifications arrive, from their `scheduledAt` to their
 * WebSocket frame, on the local stack. Two workloads:
 * - spread: 300 notifications at random fractional-second times over 60 s, to 50 connected users;
 * - burst: 1,000 notifications due at the same second (10 requests of 100 recipients).
 * The reference, measured in the same run: timers of this very process set for the same
 * instants, i.e. how late this machine's event loop alone is.
 */
import { listen, number, percentile, startBenchStack, waitUntil } from './support.ts';
import type { BenchStack, FrameListener } from './support.ts';

interface Workload {
  readonly name: string;
  /** When each notification is due (epoch ms), and to whom. */
  readonly plan: readonly { readonly at: number; readonly recipients: readonly string[] }[];
}

interface Figures {
  readonly delivered: number;
  readonly expected: number;
  readonly lateness: number[];
  readonly reference: number[];
}

function stats(values: readonly number[]): string {
  if (values.length === 0) return 'none';
  return `p50 ${number(percentile(values, 50))} ms  p99 ${number(percentile(values, 99))} ms  max ${number(Math.max(...values))} ms  min ${number(Math.min(...values))} ms`;
}

/** Runs a workload: each entry is one POST /v1/notifications; frames are matched by id. */
async function run(bench: BenchStack, admin: string, workload: Workload, arrivals: Map<string, number>): Promise<Figures> {
  const due = new Map<string, number>();
  const reference: number[] = [];
  await Promise.all(
    workload.plan.map(async ({ at, recipients }) => {
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
    }),
  );
  const last = Math.max(...workload.plan.map((p) => p.at));
  await waitUntil(() => [...due.keys()].every((id) => arrivals.has(id)), last - Date.now() + 60_000);
  const lateness = [...due].flatMap(([id, at]) => (arrivals.has(id) ? [(arrivals.get(id) as number) - at] : []));
  return { delivered: lateness.length, expected: due.size, lateness, reference };
}

function report(name: string, figures: Figures): void {
  const early = figures.lateness.filter((ms) => ms < 0).length;
  console.log(`${name}`);
  console.log(`  delivered                ${number(figures.delivered)} of ${number(figures.expected)}`);
  console.log(`  lateness (WebSocket)     ${stats(figures.lateness)}`);
  console.log(`  early (before their time) ${number(early)}`);
  console.log(`  reference (local timers) ${stats(figures.reference)}`);
}

/** Runs both workloads on one local stack and prints their figures. */
export async function latenessBench(): Promise<number> {
  const bench = await startBenchStack();
  const listeners: FrameListener[] = [];
  try {
    const admin = await bench.token('bench-admin', 'admin');
    const users = Array.from({ length: 200 }, (_, i) => `late-${String(i).padStart(3, '0')}`);
    for (let start = 0; start < users.length; start += 100) {
      const batch = users.slice(start, start + 100).map((id) => ({ id }));
      const registered = await bench.api('POST', '/v1/recipients/batch', admin, { recipients: batch });
      if (registered.status !== 200) throw new Error(`POST /v1/recipients/batch answered ${registered.status}`);
    }
    const arrivals = new Map<string, number>();
    for (const user of users) listeners.push(await listen(bench.stack.wsUrl, await bench.token(user), arrivals));

    const start = Date.now() + 5_000;
    const spread: Workload = {
      name: 'Spread: 300 notifications over 60 s (fractional seconds), 50 users',
      plan: Array.from({ length: 300 }, (_, i) => ({ at: start + Math.round(Math.random() * 60_000), recipients: [users[i % 50] as string] })),
    };
    console.log(`Running "${spread.name}" (about 70 s)...`);
    const spreadFigures = await run(bench, admin, spread, arrivals);

    const burstAt = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
    const burst: Workload = {
      name: 'Burst: 1,000 notifications due at the same second (10 requests x 100 recipients), 200 users',
      plan: Array.from({ length: 10 }, (_, r) => ({ at: burstAt, recipients: Array.from({ length: 100 }, (_, i) => users[(r * 100 + i) % users.length] as string) })),
    };
    console.log(`Running "${burst.name}"...`);
    const burstFigures = await run(bench, admin, burst, arrivals);

    console.log('');
    console.log('Delivery lateness on the local stack (from scheduledAt to the WebSocket frame)');
    report(spread.name, spreadFigures);
    report(burst.name, burstFigures);
    const lastBurst = Math.max(...burstFigures.lateness);
    console.log(`  burst: all delivered within ${number(lastBurst / 1000, 2)} s of their time`);
    return spreadFigures.delivered === spreadFigures.expected && burstFigures.delivered === burstFigures.expected ? 0 : 1;
  } finally {
    await Promise.all(listeners.map((l) => l.close()));
    await bench.close();
  }
}
