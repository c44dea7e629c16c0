/**
 * The local stack's SQS and EventBridge Scheduler for adapter tests, in the test account's region
 * (eu-west-1): the adapters' SDK clients go through a wire front (wire-front.ts), which records the
 * calls as the endpoint saw them and answers what only AWS's side can; the test reads what the
 * services hold (messages, schedules) through clients of its own on the plain endpoints. Start
 * them once per file.
 */
import {
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  ListScheduleGroupsCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import { startSqsEmulator } from '../../../local/sqs-emulator.ts';
import { manualClock } from '../fakes/manual-clock.ts';
import { startWireFront } from './wire-front.ts';
import type { WireFront } from './wire-front.ts';

/** The test account's region: queue URLs of the form `https://sqs.eu-west-1.amazonaws.com/<account>/<name>` name its queues. */
export const testRegion = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A queue: its URL, and its ARN as the Scheduler and redrive policies name it. */
export interface LocalQueue {
  readonly url: string;
  readonly arn: string;
}

/** What a queue holds, by SQS's counts. */
export interface QueueCounts {
  readonly visible: number;
  readonly delayed: number;
  readonly inFlight: number;
}

export interface LocalSqs {
  /** The adapters' client: through the front, to whichever queue URL it is given (`useQueueUrlAsEndpoint: false`, as Herald's). */
  readonly client: SQSClient;
  readonly front: WireFront;
  /** The test's own client, on the plain endpoint: its calls are not recorded. */
  readonly plain: SQSClient;
  /** The plain endpoint, for the Scheduler's deliveries. */
  readonly endpoint: string;
  /** Creates (or finds) queue `name` with `attributes`. */
  createQueue(name: string, attributes?: Readonly<Record<string, string>>): Promise<LocalQueue>;
  /** Receives every message visible now, with its attributes; they stay in flight for a minute. */
  receiveAll(url: string): Promise<Message[]>;
  counts(url: string): Promise<QueueCounts>;
  /** Empties a queue, and forgets the front's calls and answers. */
  reset(...urls: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the local SQS with a wire front on it. */
export async function startLocalSqs(): Promise<LocalSqs> {
  const emulator = await startSqsEmulator();
  const front = await startWireFront('sqs', emulator.endpoint);
  const client = new SQSClient({ region: testRegion, endpoint: front.endpoint, credentials, useQueueUrlAsEndpoint: false });
  const own = new SQSClient({ region: testRegion, endpoint: emulator.endpoint, credentials, useQueueUrlAsEndpoint: false });
  const counts = async (url: string): Promise<QueueCounts> => {
    const { Attributes = {} } = await own.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  };
  return {
    client,
    front,
    plain: own,
    endpoint: emulator.endpoint,
    async createQueue(name, attributes) {
      const { QueueUrl = '' } = await own.send(new CreateQueueCommand({ QueueName: name, ...(attributes ? { Attributes: { ...attributes } } : {}) }));
      const { Attributes = {} } = await own.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return { url: QueueUrl, arn: Attributes.QueueArn ?? '' };
    },
    async receiveAll(url) {
      const messages: Message[] = [];
      for (;;) {
        const { Messages = [] } = await own.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) return messages;
        messages.push(...Messages);
      }
    },
    counts,
    async reset(...urls) {
      for (const url of urls) await own.send(new PurgeQueueCommand({ QueueUrl: url }));
      front.reset();
    },
    async stop() {
      client.destroy();
      own.destroy();
      await front.stop();
      await emulator.stop();
    },
  };
}

export interface LocalScheduler {
  /** The adapters' client, through the front. */
  readonly client: SchedulerClient;
  readonly front: WireFront;
  readonly emulator: SchedulerEmulator;
  /** The Scheduler's clock, which moves only when told (nothing fires unless it is moved). */
  readonly clock: ReturnType<typeof manualClock>;
  /** A schedule as GetSchedule answers it; undefined when there is none. */
  get(name: string, groupName: string): Promise<GetScheduleCommandOutput | undefined>;
  /** The names of the schedules of `groupName`. */
  names(groupName: string): string[];
  /** Empties every group but the default one (their schedules go with them) and makes `groupNames` anew; forgets the front's calls and answers. */
  reset(...groupNames: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Where and when the local Scheduler runs. */
export interface LocalSchedulerOptions {
  /** The SQS its schedules deliver to. @default none reachable (a test whose schedules never fire) */
  readonly sqsEndpoint?: string;
  readonly now: Date;
  /** The schedule groups made at the start and at each `reset`. */
  readonly groupNames: readonly string[];
  /** When given, the emulator also has a faultable endpoint (`emulator.faultableEndpoint`) whose calls go through it (local/aws-call-hook.ts). */
  readonly hook?: CallHook;
}

/** Starts the local Scheduler at `now` on its own clock, delivering to the SQS at `sqsEndpoint`, with `groupNames` made. */
export async function startLocalScheduler(options: LocalSchedulerOptions): Promise<LocalScheduler> {
  const clock = manualClock(options.now.getTime());
  const emulator = await startSchedulerEmulator({
    region: testRegion,
    accountId: '111122223333',
    sqsEndpoint: options.sqsEndpoint ?? 'http://127.0.0.1:1',
    clock,
    ...(options.hook ? { faultable: { hook: options.hook } } : {}),
    log: () => undefined,
  });
  const front = await startWireFront('scheduler', emulator.endpoint);
  const client = new SchedulerClient({ region: testRegion, endpoint: front.endpoint, credentials });
  const own = new SchedulerClient({ region: testRegion, endpoint: emulator.endpoint, credentials });
  const reset = async (...groupNames: string[]): Promise<void> => {
    const { ScheduleGroups = [] } = await own.send(new ListScheduleGroupsCommand({}));
    for (const group of ScheduleGroups) if (group.Name && group.Name !== 'default') await own.send(new DeleteScheduleGroupCommand({ Name: group.Name }));
    for (const name of groupNames) await own.send(new CreateScheduleGroupCommand({ Name: name }));
    front.reset();
  };
  await reset(...options.groupNames);
  return {
    client,
    front,
    emulator,
    clock,
    async get(name, groupName) {
      try {
        return await own.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    names: (groupName) => emulator.listSchedules().filter((schedule) => schedule.groupName === groupName).map((schedule) => schedule.name),
    reset,
    async stop() {
      client.destroy();
      own.destroy();
      await front.stop();
      await emulator.stop();
    },
  };
}
