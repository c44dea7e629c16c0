/**
 * The redrive command without a stack: its arguments, which DLQs it drains and where to, and
 * the AWS path (StartMessageMoveTask polled with ListMessageMoveTasks) on the local SQS, whose
 * queues are real. The local SQS has no move tasks: the wire front answers those two actions as
 * SQS does, in its wire shape, and without them the command is seen to fall back to copying.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queues } from '../../../lib/app-description.ts';
import { describeAwsSetupFailure, localSqsEndpoint, parseRedriveArgs, planRedrive, redrive, RedriveSetupError, RedriveUsageError } from '../../../scripts/redrive.ts';
import { runInRepo } from '../support/processes.ts';
import { startLocalSqs } from '../support/local-queues.ts';
import type { LocalQueue, LocalSqs } from '../support/local-queues.ts';

let sqs: LocalSqs;
let delivery: LocalQueue;
let deliveryDlq: LocalQueue;

beforeAll(async () => {
  sqs = await startLocalSqs();
  deliveryDlq = await sqs.createQueue('herald-prod-delivery-dlq');
  delivery = await sqs.createQueue('herald-prod-delivery', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deliveryDlq.arn, maxReceiveCount: 5 }) });
});

afterAll(async () => {
  await sqs.stop();
});

beforeEach(async () => {
  await sqs.reset(delivery.url, deliveryDlq.url);
});

/** Puts `bodies` on herald-prod-delivery-dlq. */
async function deadLetters(...bodies: string[]): Promise<void> {
  for (const body of bodies) await sqs.plain.send(new SendMessageCommand({ QueueUrl: deliveryDlq.url, MessageBody: body }));
}

describe('the redrive command line', () => {
  it.each([
    [[], { stage: 'dev' }],
    [['--queue', 'delivery', '--stage', 'prod', '--region', 'eu-west-1'], { queue: 'delivery', stage: 'prod', region: 'eu-west-1' }],
    [['--local'], { stage: 'local', localUrl: 'http://127.0.0.1:3000' }],
    [['--local', 'http://127.0.0.1:4000', '--queue', 'scheduler-dlq'], { stage: 'local', localUrl: 'http://127.0.0.1:4000', queue: 'scheduler-dlq' }],
    [['--queue', 'delivery', '--local'], { stage: 'local', localUrl: 'http://127.0.0.1:3000', queue: 'delivery' }],
    [['--local=http://127.0.0.1:4000'], { stage: 'local', localUrl: 'http://127.0.0.1:4000' }],
  ])('reads %j', (args, expected) => {
    // Act
    const options = parseRedriveArgs(args);

    // Assess
    expect(options).toEqual(expected);
  });

  it.each([[['--queue']], [['--bogus']], [['extra']], [['--local', '--stage', 'prod']], [['--local', 'notaurl']], [['--local=ftp://127.0.0.1:4000']]])('refuses %j with a usage error', (args) => {
    // Act + Assess
    expect(() => parseRedriveArgs(args)).toThrow(RedriveUsageError);
  });
});

describe('what a redrive drains', () => {
  it('drains the DLQ of a named source queue back into it, by move task', () => {
    // Act
    const plan = planRedrive('delivery');

    // Assess
    expect(plan).toEqual([{ deadLetterQueue: 'delivery-dlq', destination: 'delivery', sqsFed: true }]);
  });

  it('drains a DLQ named itself, the scheduler one by copy as SQS does not feed it', () => {
    // Act
    const plan = planRedrive('scheduler-dlq');

    // Assess
    expect(plan).toEqual([{ deadLetterQueue: 'scheduler-dlq', destination: 'delivery', sqsFed: false }]);
  });

  it('drains every DLQ of the description when no queue is named', () => {
    // Prepare
    const deadLetterQueues = queues.filter((q) => q.deadLetters?.redriveTo).map((q) => q.name);

    // Act
    const plan = planRedrive(undefined);

    // Assess
    expect(plan.map((p) => p.deadLetterQueue).sort()).toEqual([...deadLetterQueues].sort());
    expect(deadLetterQueues).toEqual(expect.arrayContaining(['delivery-dlq', 'scheduler-dlq']));
  });

  it('refuses to redrive the DLQ of a stream trigger, whose messages only point at stream records', () => {
    // Act + Assess
    expect(() => planRedrive('metrics-dlq')).toThrow(/metrics-dlq cannot be redriven: its messages describe stream records/);
    expect(planRedrive(undefined).map((p) => p.deadLetterQueue)).not.toContain('metrics-dlq');
  });

  it('names the queues it knows when given one without a DLQ', () => {
    // Act + Assess
    expect(() => planRedrive('nowhere')).toThrow(/No dead-letter queue for --queue nowhere; try one of: .*delivery, delivery-dlq, scheduler-dlq/);
  });
});

describe('redrive on AWS', () => {
  it('starts a move task to the source queue and prints its progress until it completes', async () => {
    // Prepare
    sqs.front.answerNext('StartMessageMoveTask', { TaskHandle: 'task-1' });
    sqs.front.answerNext('ListMessageMoveTasks', { Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: 10 }] });
    sqs.front.answerNext('ListMessageMoveTasks', { Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 10 }] });
    const lines: string[] = [];

    // Act
    const reports = await redrive(sqs.client, { queue: 'delivery', stage: 'prod' }, (l) => lines.push(l), 0);

    // Assess
    expect(reports).toEqual([{ deadLetterQueue: 'delivery-dlq', destination: 'delivery', method: 'move-task', moved: 10 }]);
    expect(sqs.front.calls('StartMessageMoveTask').map((call) => call.input)).toEqual([{ SourceArn: deliveryDlq.arn, DestinationArn: delivery.arn }]);
    expect(sqs.front.calls('ListMessageMoveTasks').map((call) => call.input.SourceArn)).toEqual([deliveryDlq.arn, deliveryDlq.arn]);
    expect(lines).toEqual([
      'delivery-dlq -> delivery: moved 4 of 10',
      'delivery-dlq -> delivery: moved 10 of 10',
      'delivery-dlq -> delivery: done, 10 message(s) moved (move-task)',
    ]);
  });

  it('fails, saying why, when the move task fails', async () => {
    // Prepare
    sqs.front.answerNext('StartMessageMoveTask', { TaskHandle: 'task-1' });
    sqs.front.answerNext('ListMessageMoveTasks', { Results: [{ TaskHandle: 'task-1', Status: 'FAILED', FailureReason: 'AccessDenied', ApproximateNumberOfMessagesMoved: 3 }] });

    // Act + Assess
    await expect(redrive(sqs.client, { queue: 'delivery', stage: 'prod' }, () => undefined, 0)).rejects.toThrow(/ended FAILED: AccessDenied after 3 messages/);
  });

  it('does not fall back to copying when the move task is refused for another reason than being unsupported', async () => {
    // Prepare
    await deadLetters('a');
    sqs.front.failNext('StartMessageMoveTask', { statusCode: 403, code: 'AccessDenied', message: 'Access to the resource is denied.' });

    // Act
    const redriving = redrive(sqs.client, { queue: 'delivery', stage: 'prod' }, () => undefined, 0);

    // Assess
    await expect(redriving).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(sqs.front.operations()).not.toContain('ReceiveMessage');
    expect(await sqs.counts(deliveryDlq.url)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });
  });

  it('moves by receive, send and delete on an SQS without move tasks, as the local one is', async () => {
    // Prepare
    await deadLetters('a', 'b');
    const lines: string[] = [];

    // Act
    const reports = await redrive(sqs.client, { queue: 'delivery', stage: 'prod' }, (l) => lines.push(l), 0);

    // Assess
    expect(reports).toEqual([{ deadLetterQueue: 'delivery-dlq', destination: 'delivery', method: 'copy', moved: 2 }]);
    expect(lines).toContain('delivery-dlq -> delivery: this SQS has no message move tasks; moving by receive, send and delete');
    expect((await sqs.receiveAll(delivery.url)).map((m) => m.Body)).toEqual(['a', 'b']);
    expect(await sqs.counts(deliveryDlq.url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });
});

describe('redrive on a machine not set up for AWS', () => {
  /** The script run as `npm run redrive` runs it, with no AWS configuration at all (no ~/.aws, no AWS_* variables, no instance metadata). */
  function runWithoutAws(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    const home = mkdtempSync(join(tmpdir(), 'herald-redrive-home-'));
    const script = join(import.meta.dirname, '../../../scripts/redrive.ts');
    try {
      return spawnSync(process.execPath, [script, ...args], { env: { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' }, encoding: 'utf8', timeout: 30_000 });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }

  it('says in one line to pass --region when no region is configured, not a stack trace', () => {
    // Act
    const result = runWithoutAws(['--queue', 'delivery', '--stage', 'prod']);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('No AWS region: pass --region <region> (the one the stage is deployed in), or set AWS_REGION');
  });

  it('says in one line how to give credentials when there are none, not a stack trace', () => {
    // Act
    const result = runWithoutAws(['--queue', 'delivery', '--stage', 'prod', '--region', 'eu-west-1']);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^No AWS credentials: configure them as for the AWS CLI .*--local/)]);
  });

  it('names the stage, the region and the flags to check when the queues do not exist there', async () => {
    // Act: SQS has no queues of stage prdo
    const failure = await redrive(sqs.client, { queue: 'delivery', stage: 'prdo' }, () => undefined, 0).catch((error: unknown) => error);

    // Assess
    expect(describeAwsSetupFailure(failure, { stage: 'prdo', region: 'eu-west-1' })).toBe(
      'No Herald queues of stage prdo in region eu-west-1 (The specified queue does not exist.): check --stage (default dev) and --region',
    );
  });

  it('lists every option with its default in --help', () => {
    // Act
    const result = runWithoutAws(['--help']);

    // Assess
    expect(result.status).toBe(0);
    for (const option of ['--queue', '--stage', '--region', '--local', '--help']) expect(result.stdout).toMatch(new RegExp(`^  ${option} `, 'm'));
    expect(result.stdout).toContain('(default dev)');
    expect(result.stdout).toContain('delivery, delivery-dlq, scheduler-dlq');
  });
});

describe('redrive --local at something that is not the local stack', () => {
  /** What the server answers `GET /_local/endpoints`: a status and a body. */
  let answer = { status: 403, body: '{"message":"Forbidden"}' };
  let server: ReturnType<typeof createServer>;
  let url: string;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
  });

  it.each([
    [{ status: 403, body: '{"message":"Forbidden"}' }, 'answered 403'],
    [{ status: 200, body: '{"ses":"http://127.0.0.1:3005"}' }, 'named no SQS endpoint'],
    [{ status: 200, body: '<html>' }, 'named no SQS endpoint'],
  ])('refuses a server answering %j as not the stack, saying where the URL comes from', async (given, why) => {
    // Prepare
    answer = given;

    // Act
    const failure = await localSqsEndpoint(url).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RedriveSetupError);
    expect((failure as Error).message).toBe(`${url} is not a local stack's HTTP API (GET /_local/endpoints ${why}): pass the URL npm start prints for it, http://127.0.0.1:3000 by default`);
  });

  it('says it in one line as a command, exit 1, not with a stack trace', async () => {
    // Prepare
    answer = { status: 403, body: '{}' };

    // Act
    const run = await runInRepo(['node', 'scripts/redrive.ts', '--local', url], {});

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('is not a local stack\'s HTTP API (GET /_local/endpoints answered 403)')]);
  });
});
