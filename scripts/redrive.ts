/**
 * `npm run redrive -- [--queue delivery] [--stage dev] [--region eu-west-1] [--local [url]]`
 *
 * Moves dead-lettered messages back to where they are delivered from, printing a progress count.
 * `--queue` names a queue whose DLQ to drain (`delivery` drains `delivery-dlq`) or a DLQ itself
 * (`scheduler-dlq`); without it, every DLQ of lib/app-description.ts is drained.
 *
 * Queues are found by name (`herald-<stage>-<name>`, as the CDK and the local stack name them)
 * with GetQueueUrl: on AWS in the configured account and region, locally at the SQS endpoint that
 * `GET /_local/endpoints` lists. A DLQ that SQS itself feeds (a queue's redrive policy names it)
 * is moved with `StartMessageMoveTask`, polled with `ListMessageMoveTasks`; a DLQ that SQS does
 * not feed (the scheduler's), or an SQS without move tasks (the local fauxqs), is moved by
 * receive, send, delete in batches of 10 until a receive comes back empty, never moving twice a
 * message that failed again and came back (`moveMessages`).
 *
 * Redriven messages obey every delivery rule: the consumer finds a cancelled, sent or failed
 * notification final and delivers nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { queues } from '../lib/app-description.ts';
import { moveMessages } from '../shared/adapters/sqs-dead-letter-queues.ts';
import type { QueueName } from '../lib/app-description.ts';

/** What the command was asked to do. */
export interface RedriveOptions {
  /** A source queue (its DLQ is drained) or a DLQ; undefined for every DLQ. */
  readonly queue?: string;
  readonly stage: string;
  readonly region?: string;
  /** The local stack's HTTP URL, when redriving locally. */
  readonly localUrl?: string;
}

/** One DLQ and where its messages go back to. */
export interface RedrivePlan {
  readonly deadLetterQueue: QueueName;
  readonly destination: QueueName;
  /** True when SQS feeds the DLQ through a redrive policy, the one case move tasks support. */
  readonly sqsFed: boolean;
}

/** Where a redrive ran, and how many messages it moved. */
export interface RedriveReport {
  readonly deadLetterQueue: QueueName;
  readonly destination: QueueName;
  readonly method: 'move-task' | 'copy';
  readonly moved: number;
}

export class RedriveUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveUsageError';
  }
}

/** The caller's setup is missing something (no local stack answering): said in one line, exit 1, as an AWS setup failure is. */
export class RedriveSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveSetupError';
  }
}

/** `--help` was asked for: main prints the usage and exits 0. */
class RedriveHelpRequest extends Error {
  constructor() {
    super(usage);
    this.name = 'RedriveHelpRequest';
  }
}

/** The queues `--queue` accepts: each source queue with a DLQ to drain, and each such DLQ. */
function redrivableNames(): string[] {
  return queues.filter((q) => q.deadLetter || q.deadLetters?.redriveTo).map((q) => q.name);
}

/** `text` cut at spaces into lines of at most `width` characters, the lines after the first indented by `indent`. */
function wrapped(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join(`\n${indent}`);
}

const usage = `usage: npm run redrive -- [--queue <name>] [--stage <stage>] [--region <region>] [--local [<http url>]]

Moves dead-lettered messages back to the queue they are delivered from, printing a progress count.
Queues are found by name, herald-<stage>-<name>.

  --queue <name>     a queue whose DLQ to drain, or a DLQ itself (default: every DLQ but
                     metrics-dlq): ${wrapped(redrivableNames().join(', '), 78, ' '.repeat(21))}
  --stage <stage>    the deployed stage (default dev)
  --region <region>  the AWS region it is deployed in (default: AWS_REGION, or your AWS profile's)
  --local [<url>]    the local stack at that URL instead of AWS (default http://127.0.0.1:3000)
  --help             this text`;

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Parses the command line; `--local` alone means the default local stack on port 3000. @throws RedriveUsageError (exit 2) for one it cannot use */
export function parseRedriveArgs(args: readonly string[]): RedriveOptions {
  if (args.includes('--help') || args.includes('-h')) throw new RedriveHelpRequest();
  // `--local=<url>` is `--local <url>`, as for the other options.
  const rest = args.flatMap((arg) => (arg.startsWith('--local=') ? ['--local', arg.slice('--local='.length)] : [arg]));
  const localIndex = rest.indexOf('--local');
  let localUrl: string | undefined;
  if (localIndex >= 0) {
    const next = rest[localIndex + 1];
    const hasValue = next !== undefined && !next.startsWith('--');
    localUrl = hasValue ? next : 'http://127.0.0.1:3000';
    rest.splice(localIndex, hasValue ? 2 : 1);
    if (!isHttpUrl(localUrl)) throw new RedriveUsageError(`--local takes the local stack's HTTP API URL (http://127.0.0.1:3000 by default), not ${localUrl}\n${usage}`);
  }
  let values: { queue?: string; stage?: string; region?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { queue: { type: 'string' }, stage: { type: 'string' }, region: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new RedriveUsageError(`${(error as Error).message}\n${usage}`);
  }
  if (localUrl !== undefined && values.stage !== undefined && values.stage !== 'local') {
    throw new RedriveUsageError(`--local and --stage ${values.stage} do not go together: the local stack's stage is local`);
  }
  return {
    ...(values.queue !== undefined ? { queue: values.queue } : {}),
    stage: localUrl !== undefined ? 'local' : (values.stage ?? 'dev'),
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(localUrl !== undefined ? { localUrl } : {}),
  };
}

/** The DLQs to drain for `--queue`, from the app description. */
export function planRedrive(queue: string | undefined): RedrivePlan[] {
  // A DLQ without `redriveTo` holds descriptions of stream batches given up: nothing to move back.
  const deadLetterQueues = queues.filter((q) => q.deadLetters?.redriveTo !== undefined);
  const fedBySqs = new Set(queues.flatMap((q) => (q.deadLetter ? [q.deadLetter.queue] : [])));
  const unredrivable = queues.find((q) => q.name === queue && q.deadLetters && q.deadLetters.redriveTo === undefined);
  if (unredrivable) {
    throw new RedriveUsageError(`${unredrivable.name} cannot be redriven: its messages describe stream records (DDBStreamBatchInfo), not work to do again`);
  }
  const selected =
    queue === undefined
      ? deadLetterQueues
      : deadLetterQueues.filter((dlq) => dlq.name === queue || queues.some((q) => q.name === queue && q.deadLetter?.queue === dlq.name));
  if (selected.length === 0) {
    throw new RedriveUsageError(`No dead-letter queue for --queue ${queue}; try one of: ${redrivableNames().join(', ')}`);
  }
  return selected.map((dlq) => ({
    deadLetterQueue: dlq.name,
    destination: dlq.deadLetters?.redriveTo ?? dlq.name,
    sqsFed: fedBySqs.has(dlq.name),
  }));
}

/**
 * The SQS endpoint of a running local stack, as its `/_local/endpoints` lists it.
 * @throws RedriveSetupError (one line, exit 1) when nothing answers at `localUrl`, or something that is not the stack's HTTP API
 */
export async function localSqsEndpoint(localUrl: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(new URL('/_local/endpoints', localUrl));
  } catch (error) {
    throw new RedriveSetupError(`No local stack answers at ${localUrl} (${describeFetchFailure(error)}): start it with npm start, or pass its URL: --local <http url>`);
  }
  // Something else answers there (another port of the stack, another server): said in one line, as above.
  const notTheStack = (why: string): RedriveSetupError =>
    new RedriveSetupError(`${localUrl} is not a local stack's HTTP API (GET /_local/endpoints ${why}): pass the URL npm start prints for it, http://127.0.0.1:3000 by default`);
  if (!response.ok) throw notTheStack(`answered ${response.status}`);
  const endpoints = (await response.json().catch(() => undefined)) as { sqs?: unknown } | undefined;
  if (typeof endpoints?.sqs !== 'string') throw notTheStack('named no SQS endpoint');
  return endpoints.sqs;
}

interface QueueRef {
  readonly url: string;
  readonly arn: string;
}

async function findQueue(sqs: SQSClient, stage: string, name: QueueName): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `herald-${stage}-${name}` }));
  if (!QueueUrl) throw new Error(`SQS has no queue herald-${stage}-${name}`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS gave no ARN for ${QueueUrl}`);
  return { url: QueueUrl, arn };
}

/** True for the answer of an SQS that does not know the action (fauxqs, older emulators). */
function isUnsupported(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'InvalidAction' || name === 'UnsupportedOperation' || name === 'UnknownOperationException';
}

async function moveWithTask(
  sqs: SQSClient,
  source: QueueRef,
  destination: QueueRef,
  progress: (moved: number, total: number | undefined) => void,
  pollMs: number,
): Promise<number> {
  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: source.arn, DestinationArn: destination.arn }));
  for (;;) {
    await sleep(pollMs);
    const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: source.arn, MaxResults: 10 }));
    const task = Results?.find((t) => t.TaskHandle === TaskHandle) ?? Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    progress(moved, task?.ApproximateNumberOfMessagesToMove);
    if (task?.Status === 'COMPLETED') return moved;
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      throw new Error(`The move task from ${source.arn} ended ${task.Status}${task.FailureReason ? `: ${task.FailureReason}` : ''} after ${moved} messages`);
    }
  }
}

/** Receive, send, delete, ten at a time, until the DLQ answers empty (what fails again waits for the next run). */
function moveByCopy(
  sqs: SQSClient,
  plan: RedrivePlan,
  source: QueueRef,
  destination: QueueRef,
  progress: (moved: number, total: number | undefined) => void,
): Promise<number> {
  const from = { name: plan.deadLetterQueue, url: source.url };
  return moveMessages(sqs, from, { name: plan.destination, url: destination.url }, { onProgress: progress });
}

/** Runs the plan against `sqs`, printing progress through `log`. */
export async function redrive(
  sqs: SQSClient,
  options: Pick<RedriveOptions, 'queue' | 'stage'>,
  log: (line: string) => void,
  pollMs = 2_000,
): Promise<RedriveReport[]> {
  const reports: RedriveReport[] = [];
  for (const plan of planRedrive(options.queue)) {
    const source = await findQueue(sqs, options.stage, plan.deadLetterQueue);
    const destination = await findQueue(sqs, options.stage, plan.destination);
    const label = `${plan.deadLetterQueue} -> ${plan.destination}`;
    const progress = (moved: number, total: number | undefined): void =>
      log(`${label}: moved ${moved}${total === undefined ? '' : ` of ${total}`}`);
    let method: RedriveReport['method'] = 'copy';
    let moved: number;
    if (plan.sqsFed) {
      try {
        moved = await moveWithTask(sqs, source, destination, progress, pollMs);
        method = 'move-task';
      } catch (error) {
        if (!isUnsupported(error)) throw error;
        log(`${label}: this SQS has no message move tasks; moving by receive, send and delete`);
        moved = await moveByCopy(sqs, plan, source, destination, progress);
      }
    } else {
      moved = await moveByCopy(sqs, plan, source, destination, progress);
    }
    log(`${label}: done, ${moved} message(s) moved (${method})`);
    reports.push({ deadLetterQueue: plan.deadLetterQueue, destination: plan.destination, method, moved });
  }
  return reports;
}

/**
 * What to do about an AWS call that failed for a reason on the caller's side (no region, no
 * credentials, no such queue), in one line; undefined for any other failure, printed as it is.
 */
export function describeAwsSetupFailure(error: unknown, options: Pick<RedriveOptions, 'stage' | 'region' | 'localUrl'>): string | undefined {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (message === 'Region is missing') {
    return 'No AWS region: pass --region <region> (the one the stage is deployed in), or set AWS_REGION';
  }
  if (name === 'CredentialsProviderError') {
    return 'No AWS credentials: configure them as for the AWS CLI (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or pass --local for the local stack';
  }
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') {
    const where = options.localUrl ? `the local stack at ${options.localUrl}` : `region ${options.region ?? process.env.AWS_REGION ?? 'of your AWS profile'}`;
    return `No Herald queues of stage ${options.stage} in ${where} (${String(message)}): check --stage (default dev) and --region`;
  }
  return undefined;
}

function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message;
}

async function main(options: RedriveOptions): Promise<void> {
  const sqs = options.localUrl
    ? new SQSClient({
        endpoint: await localSqsEndpoint(options.localUrl),
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        useQueueUrlAsEndpoint: false,
      })
    : new SQSClient(options.region ? { region: options.region } : {});
  try {
    await redrive(sqs, options, (line) => console.log(line));
  } finally {
    sqs.destroy();
  }
}

if (import.meta.main) {
  let options: RedriveOptions | undefined;
  Promise.resolve()
    .then(async () => {
      options = parseRedriveArgs(process.argv.slice(2));
      await main(options);
    })
    .catch((error: unknown) => {
      if (error instanceof RedriveHelpRequest) {
        console.log(error.message);
        process.exit(0);
      }
      const setupFailure = options && describeAwsSetupFailure(error, options);
      console.error(error instanceof RedriveUsageError || error instanceof RedriveSetupError ? error.message : (setupFailure ?? error));
      process.exit(error instanceof RedriveUsageError ? 2 : 1);
    });
}
