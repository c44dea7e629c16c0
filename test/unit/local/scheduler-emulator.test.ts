import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator, SchedulerEmulatorOptions } from '../../../local/scheduler-emulator.ts';
import { manualClock } from '../fakes/manual-clock.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const roleArn = 'arn:aws:iam::000000000000:role/herald-scheduler';

/** An `at()` expression `seconds` (whole) from now, in UTC; also returns that instant. */
function atFromNow(seconds: number): { expression: string; at: Date } {
  const at = new Date((Math.ceil(Date.now() / 1000) + seconds) * 1000);
  return { expression: `at(${at.toISOString().slice(0, 19)})`, at };
}

describe('scheduler emulator', () => {
  let fauxqs: FauxqsServer;
  let sqs: SQSClient;
  let emulator: SchedulerEmulator | undefined;
  let scheduler: SchedulerClient | undefined;
  let queueCount = 0;

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false });
    sqs = new SQSClient({ region, endpoint: fauxqs.address, credentials });
  });

  afterAll(async () => {
    sqs.destroy();
    await fauxqs.stop();
  });

  beforeEach(() => {
    queueCount += 1;
  });

  afterEach(async () => {
    scheduler?.destroy();
    await emulator?.stop();
    scheduler = undefined;
    emulator = undefined;
  });

  async function start(options: Partial<SchedulerEmulatorOptions> = {}): Promise<SchedulerClient> {
    emulator = await startSchedulerEmulator({ region, sqsEndpoint: fauxqs.address, log: () => undefined, ...options });
    scheduler = new SchedulerClient({ region, endpoint: emulator.endpoint, credentials });
    return scheduler;
  }

  function queue(suffix: string): { queueUrl: string; queueArn: string } {
    return fauxqs.createQueue(`scheduler-test-${queueCount}-${suffix}`);
  }

  function schedule(name: string, expression: string, targetArn: string, extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommand {
    return new CreateScheduleCommand({
      Name: name,
      ScheduleExpression: expression,
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: targetArn, RoleArn: roleArn, Input: JSON.stringify({ notificationId: name }) },
      ...extra,
    });
  }

  async function receive(queueUrl: string, waitTimeSeconds: number): Promise<Message[]> {
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: waitTimeSeconds,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return output.Messages ?? [];
  }

  it('sends the Input verbatim to the target queue at the schedule time, not before, and logs nothing for it', async () => {
    // Prepare
    const logged: Record<string, unknown>[] = [];
    const client = await start({ log: (entry) => logged.push(entry) });
    const target = queue('target');
    const { expression, at } = atFromNow(2);
    const input = '{"notificationId":"ntf_01J","note":"verbatim \\u00e9"}';

    // Act
    await client.send(
      new CreateScheduleCommand({
        Name: 'ntf_01J',
        ScheduleExpression: expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: target.queueArn, RoleArn: roleArn, Input: input },
      }),
    );
    const early = await receive(target.queueUrl, 0);
    const messages = await receive(target.queueUrl, 10);

    // Assess
    expect(early).toEqual([]);
    expect(messages.map((message) => message.Body)).toEqual([input]);
    const sentAt = Number(messages[0]?.Attributes?.SentTimestamp);
    expect(sentAt).toBeGreaterThanOrEqual(at.getTime() - 50);
    expect(sentAt).toBeLessThan(at.getTime() + 5000);
    // ActionAfterCompletion defaults to NONE: the schedule stays.
    await expect(client.send(new GetScheduleCommand({ Name: 'ntf_01J' }))).resolves.toMatchObject({ State: 'ENABLED' });
    // Only what went wrong is logged, as by the other emulators.
    expect(logged).toEqual([]);
  });

  it('never fires a schedule deleted before its time', async () => {
    // Prepare
    const client = await start();
    const target = queue('target');
    const { expression, at } = atFromNow(1);
    await client.send(schedule('cancelled', expression, target.queueArn));

    // Act
    await client.send(new DeleteScheduleCommand({ Name: 'cancelled' }));
    await new Promise((resolve) => setTimeout(resolve, at.getTime() - Date.now() + 700));

    // Assess
    expect(await receive(target.queueUrl, 0)).toEqual([]);
    expect(emulator?.listSchedules()).toEqual([]);
  });

  it('removes a schedule with ActionAfterCompletion DELETE once it has fired', async () => {
    // Prepare
    const client = await start();
    const target = queue('target');
    await client.send(new CreateScheduleGroupCommand({ Name: 'herald' }));
    const { expression } = atFromNow(1);

    // Act
    await client.send(schedule('one-shot', expression, target.queueArn, { GroupName: 'herald', ActionAfterCompletion: 'DELETE' }));
    const messages = await receive(target.queueUrl, 10);

    // Assess
    expect(messages).toHaveLength(1);
    await expect
      .poll(() => client.send(new GetScheduleCommand({ Name: 'one-shot', GroupName: 'herald' })).catch((error: unknown) => error), {
        timeout: 2000,
      })
      .toBeInstanceOf(ResourceNotFoundException);
  });

  it('rejects a second schedule of the same name in a group with ConflictException', async () => {
    // Prepare
    const client = await start();
    const target = queue('target');
    const { expression } = atFromNow(3600);
    await client.send(schedule('twice', expression, target.queueArn));

    // Act
    const second = client.send(schedule('twice', expression, target.queueArn));

    // Assess
    await expect(second).rejects.toBeInstanceOf(ConflictException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 409 } });
  });

  it('answers ResourceNotFoundException for an unknown schedule or group', async () => {
    // Prepare
    const client = await start();

    // Act
    const get = client.send(new GetScheduleCommand({ Name: 'nobody' }));
    const remove = client.send(new DeleteScheduleCommand({ Name: 'nobody' }));
    const inUnknownGroup = client.send(new GetScheduleCommand({ Name: 'nobody', GroupName: 'no-such-group' }));

    // Assess
    await expect(get).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(remove).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(inUnknownGroup).rejects.toThrow('Schedule group no-such-group does not exist.');
  });

  it.each([
    ['a name longer than 64 characters', { Name: 'n'.repeat(65) }],
    ['a name with characters outside [0-9a-zA-Z-_.]', { Name: 'ntf 01/J' }],
    ['a date that does not exist', { ScheduleExpression: 'at(2030-02-30T10:00:00)' }],
    ['an expression that is not at(), rate() or cron()', { ScheduleExpression: 'in(5 minutes)' }],
    ['a cron() naming both a day of the month and a day of the week', { ScheduleExpression: 'cron(0 9 1 * MON *)' }],
    ['a rate() of zero', { ScheduleExpression: 'rate(0 minutes)' }],
    ['a StartDate more than 5 minutes ago', { ScheduleExpression: 'rate(1 hour)', StartDate: new Date(Date.now() - 6 * 60_000) }],
    ['an EndDate before the StartDate', { ScheduleExpression: 'rate(1 hour)', StartDate: new Date(Date.now() + 3_600_000), EndDate: new Date(Date.now() + 60_000) }],
    ['an unknown time zone', { ScheduleExpressionTimezone: 'Mars/Olympus_Mons' }],
    ['a target that is not an SQS queue', { Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:x', RoleArn: roleArn } }],
    ['a retry policy beyond AWS limits', { Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:q', RoleArn: roleArn, RetryPolicy: { MaximumRetryAttempts: 186 } } }],
  ])('rejects %s with ValidationException', async (_, override) => {
    // Prepare
    const client = await start();
    const input = { ...schedule('valid-name', atFromNow(3600).expression, 'arn:aws:sqs:us-east-1:000000000000:q').input, ...override };

    // Act
    const created = client.send(new CreateScheduleCommand(input));

    // Assess
    await expect(created).rejects.toBeInstanceOf(ValidationException);
    expect(emulator?.listSchedules()).toEqual([]);
  });

  it('reads at() as wall-clock time in the ScheduleExpressionTimezone', async () => {
    // Prepare
    const client = await start();

    // Act
    await client.send(schedule('paris-summer', 'at(2030-07-01T12:00:00)', 'arn:aws:sqs:us-east-1:000000000000:q', { ScheduleExpressionTimezone: 'Europe/Paris' }));
    await client.send(schedule('new-york-winter', 'at(2030-01-15T09:30:00)', 'arn:aws:sqs:us-east-1:000000000000:q', { ScheduleExpressionTimezone: 'America/New_York' }));
    await client.send(schedule('utc', 'at(2030-01-15T09:30:00)', 'arn:aws:sqs:us-east-1:000000000000:q'));

    // Assess
    const fireTimes = Object.fromEntries(emulator?.listSchedules().map((view) => [view.name, view.fireAt.toISOString()]) ?? []);
    expect(fireTimes).toEqual({
      'new-york-winter': '2030-01-15T14:30:00.000Z',
      'paris-summer': '2030-07-01T10:00:00.000Z',
      utc: '2030-01-15T09:30:00.000Z',
    });
  });

  it('replaces every property on UpdateSchedule and moves the fire time', async () => {
    // Prepare
    const client = await start();
    const targetArn = 'arn:aws:sqs:us-east-1:000000000000:q';
    await client.send(schedule('moved', 'at(2030-01-15T09:30:00)', targetArn, { Description: 'first', ActionAfterCompletion: 'DELETE' }));

    // Act
    await client.send(
      new UpdateScheduleCommand({
        Name: 'moved',
        ScheduleExpression: 'at(2030-02-01T08:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: targetArn, RoleArn: roleArn, Input: '{"v":2}' },
      }),
    );
    const unknown = client.send(
      new UpdateScheduleCommand({
        Name: 'never-created',
        ScheduleExpression: 'at(2030-02-01T08:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: targetArn, RoleArn: roleArn },
      }),
    );

    // Assess
    const updated = await client.send(new GetScheduleCommand({ Name: 'moved' }));
    expect(updated).toMatchObject({ ScheduleExpression: 'at(2030-02-01T08:00:00)', ActionAfterCompletion: 'NONE', Target: { Input: '{"v":2}' } });
    expect(updated.Description).toBeUndefined();
    expect(emulator?.listSchedules().map((view) => view.fireAt.toISOString())).toEqual(['2030-02-01T08:00:00.000Z']);
    await expect(unknown).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('does not fire a schedule beyond the 24.8-day setTimeout limit early', async () => {
    // Prepare
    const client = await start();
    const target = queue('target');

    // Act
    await client.send(schedule('next-year', atFromNow(365 * 86_400).expression, target.queueArn));
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess
    expect(await receive(target.queueUrl, 0)).toEqual([]);
    expect(emulator?.listSchedules().map((view) => view.completed)).toEqual([false]);
  });

  it('lists schedules filtered by group and name prefix, page by page', async () => {
    // Prepare
    const client = await start();
    await client.send(new CreateScheduleGroupCommand({ Name: 'herald' }));
    const { expression } = atFromNow(3600);
    for (const name of ['ntf_a', 'ntf_b', 'ntf_c', 'brd_a']) {
      await client.send(schedule(name, expression, 'arn:aws:sqs:us-east-1:000000000000:q', { GroupName: 'herald' }));
    }
    await client.send(schedule('ntf_default', expression, 'arn:aws:sqs:us-east-1:000000000000:q'));

    // Act
    const first = await client.send(new ListSchedulesCommand({ GroupName: 'herald', NamePrefix: 'ntf_', MaxResults: 2 }));
    const second = await client.send(new ListSchedulesCommand({ GroupName: 'herald', NamePrefix: 'ntf_', MaxResults: 2, NextToken: first.NextToken }));

    // Assess
    expect(first.Schedules?.map((item) => item.Name)).toEqual(['ntf_a', 'ntf_b']);
    expect(second.Schedules?.map((item) => item.Name)).toEqual(['ntf_c']);
    expect(second.NextToken).toBeUndefined();
    expect(first.Schedules?.[0]).toMatchObject({
      Arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/herald/ntf_a',
      GroupName: 'herald',
      State: 'ENABLED',
      Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:q' },
    });
    expect(first.Schedules?.[0]?.CreationDate).toBeInstanceOf(Date);
  });

  it('dead-letters the Input with the AWS attributes once the retries are exhausted', async () => {
    // Prepare
    const client = await start({ retryBackoff: { baseDelayMs: 20, maxDelayMs: 50 } });
    const deadLetters = queue('dlq');
    const missingQueueArn = `arn:aws:sqs:us-east-1:000000000000:scheduler-test-${queueCount}-missing`;
    const { expression } = atFromNow(0);

    // Act
    const { ScheduleArn } = await client.send(
      new CreateScheduleCommand({
        Name: 'undeliverable',
        ScheduleExpression: expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: missingQueueArn,
          RoleArn: roleArn,
          Input: '{"notificationId":"undeliverable"}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: deadLetters.queueArn },
        },
      }),
    );
    const messages = await receive(deadLetters.queueUrl, 10);

    // Assess
    expect(messages.map((message) => message.Body)).toEqual(['{"notificationId":"undeliverable"}']);
    const attributes = Object.fromEntries(
      Object.entries(messages[0]?.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
    );
    expect(attributes).toMatchObject({
      ERROR_CODE: 'AWS.SimpleQueueService.NonExistentQueue',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
      IS_PAYLOAD_TRUNCATED: 'false',
      SCHEDULE_ARN: ScheduleArn,
      TARGET_ARN: missingQueueArn,
    });
    expect(attributes.ERROR_MESSAGE).toBeTruthy();
    expect(attributes.SCHEDULED_TIME).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    await expect.poll(() => emulator?.listSchedules(), { timeout: 2000 }).toEqual([]);
  });

  it('refuses an at() already past, on create and on update, as AWS does', async () => {
    // Prepare
    const client = await start();
    const targetArn = 'arn:aws:sqs:us-east-1:000000000000:q';
    await client.send(schedule('kept', atFromNow(3600).expression, targetArn));

    // Act
    const created = client.send(schedule('late', 'at(2020-01-01T00:00:00)', targetArn));
    const updated = client.send(new UpdateScheduleCommand({ ...schedule('kept', 'at(2020-01-01T00:00:00)', targetArn).input }));

    // Assess
    await expect(created).rejects.toBeInstanceOf(ValidationException);
    await expect(created).rejects.toThrow('The schedule expression at(2020-01-01T00:00:00) is in the past.');
    await expect(updated).rejects.toBeInstanceOf(ValidationException);
    expect(emulator?.listSchedules().map((view) => view.name)).toEqual(['kept']);
  });

  it('fires a rate(1 minute) schedule at once and then each minute, the Input verbatim every time', async () => {
    // Prepare
    const clock = manualClock(Date.now());
    const client = await start({ clock });
    const target = queue('target');
    const createdAt = clock.now();

    // Act
    await client.send(schedule('every-minute', 'rate(1 minute)', target.queueArn));
    const first = await receive(target.queueUrl, 2);
    clock.advance(59_000);
    const early = await receive(target.queueUrl, 0);
    clock.advance(1_000);
    const second = await receive(target.queueUrl, 2);
    clock.advance(60_000);
    const third = await receive(target.queueUrl, 2);

    // Assess
    expect([first, second, third].map((messages) => messages.map((message) => message.Body))).toEqual([
      ['{"notificationId":"every-minute"}'],
      ['{"notificationId":"every-minute"}'],
      ['{"notificationId":"every-minute"}'],
    ]);
    expect(early).toEqual([]);
    expect(emulator?.listSchedules()[0]?.fireAt.getTime()).toBe(createdAt + 180_000);
  });

  it("replaces the context attributes in the Input: each occurrence's scheduled time, the schedule's ARN, the attempt", async () => {
    // Prepare: a whole minute, so the times read plainly
    const firstAt = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
    const clock = manualClock(firstAt - 30_000);
    const client = await start({ clock });
    const target = queue('target');
    const input = '{"at":"<aws.scheduler.scheduled-time>","arn":"<aws.scheduler.schedule-arn>","try":"<aws.scheduler.attempt-number>","other":"<aws.scheduler.unknown>"}';

    // Act
    await client.send(
      schedule('with-context', 'rate(1 minute)', target.queueArn, {
        StartDate: new Date(firstAt),
        Target: { Arn: target.queueArn, RoleArn: roleArn, Input: input },
      }),
    );
    clock.advance(30_000);
    const first = await receive(target.queueUrl, 2);
    clock.advance(60_000);
    const second = await receive(target.queueUrl, 2);

    // Assess
    const bodies = [...first, ...second].map((m) => JSON.parse(m.Body ?? '{}') as Record<string, string>);
    expect(bodies.map((b) => b.at)).toEqual([new Date(firstAt).toISOString().replace('.000Z', 'Z'), new Date(firstAt + 60_000).toISOString().replace('.000Z', 'Z')]);
    expect(bodies[0]?.arn).toMatch(/^arn:aws:scheduler:[^:]+:\d+:schedule\/default\/with-context$/);
    expect(bodies[0]?.try).toBe('1');
    expect(bodies[0]?.other).toBe('<aws.scheduler.unknown>');
  });

  it('does not fire a DISABLED schedule, and resumes it when UpdateSchedule enables it', async () => {
    // Prepare
    const clock = manualClock(Date.now());
    const client = await start({ clock });
    const target = queue('target');
    await client.send(schedule('paused', 'rate(1 minute)', target.queueArn, { State: 'DISABLED' }));

    // Act
    clock.advance(180_000);
    const whileDisabled = await receive(target.queueUrl, 1);
    await client.send(new UpdateScheduleCommand({ ...schedule('paused', 'rate(1 minute)', target.queueArn).input, State: 'ENABLED' }));
    const onEnabling = await receive(target.queueUrl, 2);
    clock.advance(60_000);
    const aMinuteLater = await receive(target.queueUrl, 2);

    // Assess
    expect(whileDisabled).toEqual([]);
    expect(onEnabling).toHaveLength(1);
    expect(aMinuteLater).toHaveLength(1);
  });

  it('fires a cron() schedule at its times in its time zone and not after its EndDate', async () => {
    // Prepare: 08:59:30 UTC on a winter day is 09:59:30 in Paris
    const clock = manualClock(Date.parse('2027-01-12T08:59:30Z'));
    const client = await start({ clock });
    const target = queue('target');
    const endDate = new Date('2027-01-12T11:30:00Z');

    // Act
    await client.send(schedule('hourly-paris', 'cron(0 * * * ? *)', target.queueArn, { ScheduleExpressionTimezone: 'Europe/Paris', EndDate: endDate }));
    const atCreation = emulator?.listSchedules()[0]?.fireAt.toISOString();
    const fired: number[] = [];
    for (let minute = 0; minute < 4 * 60; minute += 30) {
      clock.advance(30 * 60_000);
      fired.push((await receive(target.queueUrl, minute % 60 === 0 ? 2 : 0)).length);
    }

    // Assess: 10:00, 11:00 and 12:00 Paris time (09:00, 10:00, 11:00 UTC); nothing after the EndDate
    expect(atCreation).toBe('2027-01-12T09:00:00.000Z');
    expect(fired).toEqual([1, 0, 1, 0, 1, 0, 0, 0]);
    expect(emulator?.listSchedules()[0]?.completed).toBe(true);
    await expect(client.send(new GetScheduleCommand({ Name: 'hourly-paris' }))).resolves.toMatchObject({
      ScheduleExpression: 'cron(0 * * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      EndDate: endDate,
      State: 'ENABLED',
    });
  });

  describe('with a data directory', () => {
    let dataDir: string;

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'herald-scheduler-'));
    });

    afterEach(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    it('keeps schedules across a restart and fires one that came due while stopped', async () => {
      // Prepare
      const first = await start({ dataDir });
      const target = queue('target');
      await first.send(new CreateScheduleGroupCommand({ Name: 'herald' }));
      const dueWhileStopped = atFromNow(1);
      await first.send(schedule('due-while-stopped', dueWhileStopped.expression, target.queueArn, { GroupName: 'herald', ActionAfterCompletion: 'DELETE' }));
      const { ScheduleArn: laterArn } = await first.send(schedule('later', atFromNow(3600).expression, target.queueArn, { GroupName: 'herald' }));
      first.destroy();
      await emulator?.stop();
      await new Promise((resolve) => setTimeout(resolve, dueWhileStopped.at.getTime() - Date.now() + 200));
      expect(await receive(target.queueUrl, 0)).toEqual([]);

      // Act
      const second = await start({ dataDir });
      const messages = await receive(target.queueUrl, 5);

      // Assess
      expect(messages.map((message) => message.Body)).toEqual(['{"notificationId":"due-while-stopped"}']);
      await expect(second.send(new GetScheduleCommand({ Name: 'later', GroupName: 'herald' }))).resolves.toMatchObject({ Arn: laterArn });
      await expect
        .poll(() => second.send(new GetScheduleCommand({ Name: 'due-while-stopped', GroupName: 'herald' })).catch((error: unknown) => error), {
          timeout: 2000,
        })
        .toBeInstanceOf(ResourceNotFoundException);
      const storedNames = async (): Promise<string[]> => {
        const stored = JSON.parse(await readFile(join(dataDir, 'scheduler', 'schedules.json'), 'utf8')) as { schedules: { Name: string }[] };
        return stored.schedules.map((item) => item.Name);
      };
      await expect.poll(storedNames, { timeout: 2000 }).toEqual(['later']);
    });

    it('keeps a recurring schedule across a restart and fires it at its next time, not the ones it missed', async () => {
      // Prepare
      const clock = manualClock(Date.now());
      const first = await start({ dataDir, clock });
      const target = queue('target');
      await first.send(schedule('hourly', 'rate(1 hour)', target.queueArn));
      expect(await receive(target.queueUrl, 2)).toHaveLength(1);
      first.destroy();
      await emulator?.stop();
      clock.advance(3 * 3_600_000 + 60_000);

      // Act
      await start({ dataDir, clock });
      const atRestart = await receive(target.queueUrl, 1);
      clock.advance(3_600_000);
      const nextTime = await receive(target.queueUrl, 2);

      // Assess
      expect(atRestart).toEqual([]);
      expect(nextTime.map((message) => message.Body)).toEqual(['{"notificationId":"hourly"}']);
    });

    it('starts with a stored schedule an earlier version took and this one refuses, keeping it unarmed and saying so', async () => {
      // Prepare: a zone the emulator took before it refused ICU's own ids (`PST`), written as the file holds it
      const first = await start({ dataDir });
      const target = queue('target');
      await first.send(schedule('hourly', 'rate(1 hour)', target.queueArn, { ScheduleExpressionTimezone: 'America/Los_Angeles' }));
      first.destroy();
      await emulator?.stop();
      const file = join(dataDir, 'scheduler', 'schedules.json');
      await writeFile(file, (await readFile(file, 'utf8')).replace('"America/Los_Angeles"', '"PST"'));
      const logged: Record<string, unknown>[] = [];

      // Act
      const second = await start({ dataDir, log: (entry) => logged.push(entry) });

      // Assess
      await expect(second.send(new GetScheduleCommand({ Name: 'hourly' }))).resolves.toMatchObject({ ScheduleExpressionTimezone: 'PST' });
      expect(logged).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'stored schedule no longer valid: it will not fire' }));
    });
  });
});
