/**
 * `npm run bench -- broadcast --recipients 100000`: a broadcast benchmark on the local stack.
 *
 * Starts the whole local stack in this process, registers the recipients straight into the
 * directory's tables (BatchWriteItem, in the directory's own item layout), schedules one broadcast
 * to their group through the HTTP API, shows its progress while it runs, and prints:
 * - recipients per second from the schedule (the API call) to the last inbox write, and that rate
 *   over the local DynamoDB endpoint's BatchWriteItem ceiling (items per second, 25 small items a
 *   call, 32 calls in flight from this thread), measured in the same run before the broadcast;
 * - how long the stack took to start, and its resident memory (RSS) once started, idle;
 * - the peak memory (RSS) of this process, which holds every emulator and every function, and, at
 *   the sample with the highest RSS, how much of it the main thread's heap (the emulators' data)
 *   and the heaps of the functions started so far took (each starts at its first invocation);
 * - the DynamoDB writes per recipient (items to tables and entries to indexes, counted by the local
 *   endpoint: the entries DynamoDB charges write units for), and those writes per second against the ceiling: how much
 *   of the endpoint's raw write rate the broadcast used, whatever a recipient costs;
 * - the main thread's live heap after a full GC, once started and at the end, and the difference
 *   per recipient: the data the emulators keep, without the garbage between collections;
 * - the CPU time of the process (every thread) over the broadcast's wall time, in cores: above 1,
 *   more than one core was working; and how busy the main thread (the emulators') was;
 * - the AWS API calls the functions made per recipient, by service and operation, as counted at
 *   the emulated endpoints (the local stack's own polling of the queues is not counted: on AWS
 *   the Lambda service does that).
 * Figures only: nothing here passes or fails on speed.
 */
import { parseArgs } from 'node:util';
import { seedDirectory } from '../../local/seed-directory.ts';
import { LOCAL_REGION } from '../../local/stack.ts';
import type { LocalStack } from '../../local/stack.ts';
import { batchWriteCeiling } from './dynamodb.ts';
import { megabytes, number, numberOption, peakRss } from './format.ts';
import { liveMainHeap, startBenchStack } from './support.ts';

/** How to call the broadcast benchmark. */
export const broadcastUsage = 'npm run bench -- broadcast [--recipients 100000] [--timeout-seconds 3600] [--channels inbox,websocket]';

interface Progress {
  readonly total: number;
  readonly sent: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly pending: number;
  readonly percent: number;
}

interface BroadcastView {
  readonly status: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly lastError: string | null;
  readonly progress: Progress;
}

function parseOptions(args: readonly string[]): { recipients: number; timeoutSeconds: number; channels: string[] } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      recipients: { type: 'string', default: '100000' },
      'timeout-seconds': { type: 'string', default: '3600' },
      channels: { type: 'string', default: 'inbox,websocket' },
    },
  });
  const recipients = numberOption('recipients', values.recipients, broadcastUsage, { integer: true });
  const timeoutSeconds = numberOption('timeout-seconds', values['timeout-seconds'], broadcastUsage);
  return { recipients, timeoutSeconds, channels: values.channels.split(',').filter(Boolean) };
}

/** One progress line: a bar on a terminal (rewritten in place), plain text otherwise. */
function progressLine(p: Progress, status: string, elapsedS: number, rate: number): string {
  const width = 30;
  const filled = Math.round((p.percent / 100) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const total = p.total > 0 ? number(p.total) : '?';
  return `${bar} ${String(p.percent).padStart(3)}%  ${number(p.sent)}/${total} sent  ${number(p.failed)} failed  ${status}  ${number(elapsedS, 1)} s  ${number(rate)}/s  RSS ${megabytes(process.memoryUsage().rss)}`;
}

/**
 * One look at the memory (bytes): the process's RSS, the main thread's heap, the main thread's
 * memory outside its heap (Buffers and other `external` allocations), and the sum of the functions' heaps.
 */
interface MemorySample {
  readonly rss: number;
  readonly mainHeap: number;
  readonly mainExternal: number;
  readonly functionHeaps: number;
  /** How many functions have a sandbox (each starts at its first invocation). */
  readonly functionsStarted: number;
}

async function sampleMemory(stack: LocalStack): Promise<MemorySample> {
  const heaps = await Promise.all(Object.values(stack.functions).map((fn) => fn.heap()));
  const { rss, heapTotal, external } = process.memoryUsage();
  return {
    rss,
    mainHeap: heapTotal,
    mainExternal: external,
    functionHeaps: heaps.reduce((sum, heap) => sum + (heap?.totalBytes ?? 0), 0),
    functionsStarted: heaps.filter((heap) => heap !== undefined).length,
  };
}

/** `3 of the 13 functions started, their heaps 216 MB`: the sandboxes' part of a memory sample. */
function functionsPart(sample: MemorySample, functions: number): string {
  return `${number(sample.functionsStarted)} of the ${number(functions)} functions started, their heaps ${megabytes(sample.functionHeaps)}`;
}

async function getBroadcast(stack: LocalStack, token: string, id: string): Promise<BroadcastView> {
  const response = await fetch(`${stack.httpUrl}/v1/broadcasts/${id}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /v1/broadcasts/${id} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as BroadcastView;
}

/** Runs the broadcast benchmark with the command line's arguments; resolves with the exit code (0, or 1 when the broadcast did not complete). */
export async function runBroadcastBench(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  console.log(`Starting the local stack in this process...`);
  const startBegan = performance.now();
  const bench = await startBenchStack('broadcast', { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN', HERALD_BROADCAST_WATCH_SECONDS: '30' });
  const { stack } = bench;
  const startSeconds = (performance.now() - startBegan) / 1000;
  const idle = await sampleMemory(stack);
  const idleRss = idle.rss;
  const idleLive = liveMainHeap();
  console.log(
    `Started in ${number(startSeconds, 2)} s; RSS once started ${megabytes(idleRss)} (main thread's heap ${megabytes(idle.mainHeap)} and external memory ${megabytes(idle.mainExternal)}; ${functionsPart(idle, Object.keys(stack.functions).length)}).`,
  );
  let exitCode = 0;
  try {
    const group = 'bench';
    const ids = Array.from({ length: options.recipients }, (_, i) => `bench-${String(i).padStart(8, '0')}`);
    const seedStart = performance.now();
    await seedDirectory({
      endpoint: stack.endpoints.dynamodb,
      region: LOCAL_REGION,
      tables: { recipients: stack.tableNames.recipients ?? '', memberships: stack.tableNames.memberships ?? '' },
      tenantId: 'default',
      recipients: ids.map((id) => ({ id, groups: [group] })),
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(`Registered ${number(options.recipients)} recipients in group "${group}" in ${number(seedSeconds, 1)} s (direct BatchWriteItem).`);

    const ceiling = await batchWriteCeiling(stack.faultableEndpoints.dynamodb, { seconds: 3, concurrency: 32 });
    console.log(`The local DynamoDB endpoint's BatchWriteItem ceiling: ${number(ceiling.perSecond)} items/s (the reference).`);

    const token = await bench.token('bench-admin', 'admin');
    stack.apiCalls.reset();
    const writesBefore = stack.dynamodbWrites();
    const cpuBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    const started = performance.now();
    const response = await fetch(`${stack.httpUrl}/v1/broadcasts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        audience: { groups: [group] },
        title: 'Benchmark broadcast',
        message: 'One announcement to the whole group.',
        channels: options.channels,
      }),
    });
    if (response.status !== 201) throw new Error(`POST /v1/broadcasts answered ${response.status}: ${await response.text()}`);
    const { broadcastId } = (await response.json()) as { broadcastId: string };
    console.log(`Scheduled broadcast ${broadcastId} to group "${group}" (channels ${options.channels.join(', ')}).`);

    const tty = process.stdout.isTTY === true;
    let view: BroadcastView;
    let lastPrinted = 0;
    let countedAt: number | undefined;
    const deadline = started + options.timeoutSeconds * 1000;
    let peak = idle;
    for (;;) {
      const memory = await sampleMemory(stack);
      if (memory.rss > peak.rss) peak = memory;
      view = await getBroadcast(stack, token, broadcastId);
      const elapsed = (performance.now() - started) / 1000;
      if (countedAt === undefined && view.progress.total > 0) countedAt = elapsed;
      const line = progressLine(view.progress, view.status, elapsed, view.progress.sent / Math.max(elapsed, 0.001));
      if (tty) process.stdout.write(`\r${line}\u001b[K`);
      else if (elapsed - lastPrinted >= 5) {
        console.log(line);
        lastPrinted = elapsed;
      }
      const finished = view.status === 'completed' || view.status === 'failed' || view.status === 'cancelled';
      if (finished || performance.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (tty) process.stdout.write('\n');

    const wall = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const mainThreadBusy = performance.eventLoopUtilization(loopBefore).utilization;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // Server-side times: from the broadcast's creation (the schedule) to its completion, which is
    // written right after the last recipient's inbox write and outcome.
    const serverSeconds = view.completedAt ? (Date.parse(view.completedAt) - Date.parse(view.createdAt)) / 1000 : wall;
    const calls = stack.apiCalls.snapshot();
    const delivered = view.progress.sent;
    const rows = Object.entries(calls)
      .flatMap(([service, ops]) => Object.entries(ops).map(([operation, count]) => ({ name: `${service} ${operation}`, count })))
      .sort((a, b) => b.count - a.count);
    const totalCalls = rows.reduce((sum, row) => sum + row.count, 0);
    const writesAfter = stack.dynamodbWrites();
    const tableWrites = writesAfter.tableItems - writesBefore.tableItems;
    const indexWrites = writesAfter.indexEntries - writesBefore.indexEntries;
    const live = liveMainHeap();

    console.log('');
    console.log(`Broadcast of ${number(options.recipients)} recipients (one group) on the local stack`);
    console.log(`  status                         ${view.status}${view.lastError ? ` (last error: ${view.lastError})` : ''}`);
    console.log(`  delivered                      ${number(delivered)} sent, ${number(view.progress.failed)} failed, ${number(view.progress.pending)} pending`);
    console.log(`  schedule -> last inbox write   ${number(serverSeconds, 1)} s`);
    const perSecond = delivered / serverSeconds;
    console.log(`  recipients per second          ${number(perSecond, 0)}`);
    console.log(`  BatchWriteItem ceiling         ${number(ceiling.perSecond, 0)} items/s (same run); the broadcast reached ${number((perSecond / ceiling.perSecond) * 100, 1)} % of it`);
    if (countedAt !== undefined) console.log(`  fan-out resolved and counted   after ~${number(countedAt, 1)} s`);
    console.log(`  stack start-up                 ${number(startSeconds, 2)} s, RSS once started ${megabytes(idleRss)}`);
    console.log(`  peak RSS of the process        ${megabytes(peakRss())} (every emulator and function in one Node process)`);
    console.log(`  at the highest RSS sampled     ${megabytes(peak.rss)}: main thread's heap ${megabytes(peak.mainHeap)} and external memory ${megabytes(peak.mainExternal)}; ${functionsPart(peak, Object.keys(stack.functions).length)}`);
    const perRecipient = (n: number): string => number(n / Math.max(1, options.recipients), 2);
    console.log(
      `  DynamoDB writes per recipient  ${perRecipient(tableWrites + indexWrites)}: ${perRecipient(tableWrites)} items to tables and ${perRecipient(indexWrites)} index entries (puts and deletes)`,
    );
    console.log(
      `  DynamoDB writes per second     ${number((tableWrites + indexWrites) / serverSeconds)}: ${number(((tableWrites + indexWrites) / serverSeconds / ceiling.perSecond) * 100, 1)} % of the ceiling's single-item writes per second`,
    );
    console.log(`  main thread's live heap        ${megabytes(live)} after a full GC at the end (${megabytes(idleLive)} once started: ${number((live - idleLive) / options.recipients / 1024, 1)} KB per recipient)`);
    console.log(`  CPU use of the process         ${number(cpuSeconds / wall, 2)} cores (${number(cpuSeconds, 1)} s of CPU in ${number(wall, 1)} s)`);
    console.log(`  main thread busy               ${number(mainThreadBusy * 100)} % of the time (event-loop utilisation)`);
    console.log(`  AWS API calls per recipient    ${number(totalCalls / Math.max(1, options.recipients), 3)} (${number(totalCalls)} calls)`);
    for (const row of rows) console.log(`    ${row.name.padEnd(38)} ${number(row.count / Math.max(1, options.recipients), 3).padStart(8)}  (${number(row.count)})`);
    if (view.status !== 'completed') exitCode = 1;
  } finally {
    await bench.close();
  }
  return exitCode;
}
