/**
 * `npm run bench -- <benchmark> [options]`: benchmarks of Herald, run in this process.
 *
 * - `broadcast`: one broadcast to a big group, end to end (scripts/bench/broadcast.ts);
 * - `dynamodb`: the DynamoDB endpoint's throughput per operation through the SDK, against plain
 *   dynalite in the same run (scripts/bench/dynamodb.ts);
 * - `bundles`: each function's bundle as the CDK builds it, and its module init in a fresh Node
 *   process (scripts/bench/bundles.ts);
 * - `lateness`: how late notifications reach a WebSocket, spread over a minute and in a burst
 *   (scripts/bench/lateness.ts);
 * - `accept`: notifications accepted per second by POST /v1/notifications (scripts/bench/accept.ts);
 * - `api`: a mixed API load at rising rates (scripts/bench/api.ts);
 * - `calls`: the AWS calls one delivery costs, by operation (scripts/bench/calls.ts).
 *
 * Each benchmark is imported only when it runs: one that measures this process's memory must not
 * carry another's modules (the CDK, for `bundles`). Figures only: nothing here passes or fails on speed.
 */
import { UsageError } from './bench/format.ts';

type Runner = (args: readonly string[]) => Promise<number>;

interface Benchmark {
  readonly usage: string;
  readonly load: () => Promise<Runner>;
}

const benchmarks: Readonly<Record<string, Benchmark>> = {
  broadcast: {
    usage: 'broadcast [--recipients 100000] [--timeout-seconds 3600] [--channels inbox,websocket]',
    load: async () => (await import('./bench/broadcast.ts')).runBroadcastBench,
  },
  dynamodb: { usage: 'dynamodb [--seconds 3] [--concurrency 32]', load: async () => (await import('./bench/dynamodb.ts')).runDynamoDbBench },
  bundles: { usage: 'bundles [--runs 7]', load: async () => (await import('./bench/bundles.ts')).runBundlesBench },
  lateness: { usage: 'lateness [--spread 300] [--burst 1000]', load: async () => (await import('./bench/lateness.ts')).runLatenessBench },
  accept: { usage: 'accept [--seconds 5] [--recipients 100] [--concurrency 1,2,4,8,16]', load: async () => (await import('./bench/accept.ts')).runAcceptBench },
  api: { usage: 'api [--seconds 5] [--rates 100,200,300,400,500,600,800]', load: async () => (await import('./bench/api.ts')).runApiBench },
  calls: { usage: 'calls [--notifications 5] [--recipients 100,1000]', load: async () => (await import('./bench/calls.ts')).runCallsBench },
};

const usage = ['Usage:', ...Object.values(benchmarks).map((b) => `  npm run bench -- ${b.usage}`)].join('\n');

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (command === '--help' || command === '-h' || args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  const benchmark = command === undefined ? undefined : benchmarks[command];
  if (!benchmark) throw new UsageError(usage);
  return (await benchmark.load())(args);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(error instanceof UsageError ? error.message : `${error.message}\n${usage}`);
      process.exit(2);
    }
    console.error('The benchmark failed:', error);
    process.exit(1);
  },
);
