/**
 * `npm run bench -- <benchmark> [options]`: benchmarks of the local stack, run in this process.
 *
 * - `broadcast`: one broadcast to a big group, end to end (scripts/bench/broadcast.ts);
 * - `dynamodb`: the DynamoDB endpoint's throughput per operation through the SDK, against plain
 *   dynalite in the same run (scripts/bench/dynamodb.ts).
 *
 * Figures only: nothing here passes or fails on speed.
 */
import { broadcastUsage, runBroadcastBench } from './bench/broadcast.ts';
import { dynamoDbUsage, runDynamoDbBench } from './bench/dynamodb.ts';
import { UsageError } from './bench/format.ts';

const benchmarks: Readonly<Record<string, (args: readonly string[]) => Promise<number>>> = {
  broadcast: runBroadcastBench,
  dynamodb: runDynamoDbBench,
};

const usage = ['Usage:', `  ${broadcastUsage}`, `  ${dynamoDbUsage}`].join('\n');

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const run = command === undefined ? undefined : benchmarks[command];
  if (!run) throw new UsageError(usage);
  return run(args);
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
