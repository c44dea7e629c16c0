/**
 * The local AWS a function's test runs against: the local stack's own emulators, started once per
 * file. DynamoDB always (Herald's tables, physical name = logical name, as startLocalDynamo makes
 * them); SQS (Herald's queues, named as localFunctionEnv's URLs name them), EventBridge Scheduler
 * (with the functions' schedule group), SES and the WebSocket gateway's `@connections` when asked.
 * The function reaches each through its faultable endpoint, whose hook records every call it makes
 * and answers the faults a test sets, in that service's own wire format (local/aws-call-hook.ts);
 * the test's own clients use the plain endpoints, as the local stack's do. In front of DynamoDB's
 * faultable endpoint a wire front (wire-front.ts) can also answer a call by its input, which the
 * hook never sees (`dynamoFront`). `env` is the function's environment pointed at them: set it
 * before the handler is imported.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { vi } from 'vitest';
import { WebSocket } from 'ws';
import { queues, tables } from '../../../lib/app-description.ts';
import type { QueueName, TableName } from '../../../lib/app-description.ts';
import { faultResponse } from '../../../local/aws-call-hook.ts';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { startDynamoDbEndpoint } from '../../../local/dynamodb/endpoint.ts';
import { toSentMail } from '../../../local/ses-mailbox.ts';
import type { SentMail } from '../../../local/ses-mailbox.ts';
import type { FaultError, FaultService } from '../../../local/fault-rules.ts';
import { startSchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import type { SchedulerEmulator } from '../../../local/scheduler-emulator.ts';
import { startSesEmulator } from '../../../local/ses-emulator.ts';
import type { SesEmulator } from '../../../local/ses-emulator.ts';
import { startSqsEmulator } from '../../../local/sqs-emulator.ts';
import { createTableInput } from '../../../local/stack.ts';
import { startWebSocketGateway } from '../../../local/websocket-gateway.ts';
import type { RunningWebSocketGateway } from '../../../local/websocket-gateway.ts';
import { configuredSesBudget, localFunctionEnv } from './function-env.ts';
import type { LocalDynamo } from './local-dynamo.ts';
import { startWireFront } from './wire-front.ts';
import type { WireFront } from './wire-front.ts';

const region = 'eu-west-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The calls a function made through the faultable endpoints, and the faults it is to meet there. */
export interface RecordingHook {
  readonly hook: CallHook;
  /** The operations called since the last `reset`, in order: of `service`, or of every service as `service:Operation`. */
  calls(service?: FaultService): string[];
  /** Answers the next `times` calls of `operation` (all of them when not given) with `error`, as `service` would. */
  fail(service: FaultService, operation: string, error: FaultError, times?: number): void;
  /** Forgets the calls and the faults. */
  reset(): void;
}

/** A hook that records each call and answers the faults set with `fail`. */
export function recordingHook(): RecordingHook {
  const made: { service: FaultService; operation: string }[] = [];
  const faults = new Map<string, { error: FaultError; left: number }>();
  return {
    hook: (service, call) => {
      made.push({ service, operation: call.operation });
      const fault = faults.get(`${service}:${call.operation}`);
      if (!fault || fault.left === 0) return undefined;
      fault.left -= 1;
      return faultResponse(service, call.protocol, fault.error);
    },
    calls: (service) => (service ? made.filter((c) => c.service === service).map((c) => c.operation) : made.map((c) => `${c.service}:${c.operation}`)),
    fail: (service, operation, error, times = Number.POSITIVE_INFINITY) => void faults.set(`${service}:${operation}`, { error, left: times }),
    reset: () => {
      made.length = 0;
      faults.clear();
    },
  };
}

/** A WebSocket client connected through the local gateway, with the frames it received. */
export interface OpenSocket {
  readonly connectionId: string;
  /** Every frame received so far, parsed: those posted before this call are all there (a marker posted after them came back). */
  frames(): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface LocalAws {
  /** The function's environment: localFunctionEnv pointed at the faultable endpoints, with `extra`. */
  readonly env: Record<string, string>;
  readonly calls: RecordingHook;
  /** The plain DynamoDB endpoint and its clients. */
  readonly dynamo: LocalDynamo;
  /**
   * The front the function's DynamoDB calls pass before the faultable endpoint: it answers a call
   * by its input (the low-level JSON), a fault the hook cannot aim, as it never sees one; a call
   * it answers never reaches the hook, and is not in `calls`.
   */
  readonly dynamoFront: WireFront;
  /** Deletes every item of the tables named (their logical names). */
  clearTables(...names: TableName[]): Promise<void>;
  /** Empties every queue. */
  purgeQueues(): Promise<void>;
  /**
   * Takes what `name` holds (up to ten messages, with their attributes and message attributes),
   * as a receive `afterMs` from now would see it: SQS's clock (fauxqs reads `Date.now()` at each
   * receive) is moved that far for the call, so a message delayed or hidden for less is there and
   * one for longer is not. Received messages stay hidden for the queue's visibility timeout.
   */
  receive(name: QueueName, afterMs?: number): Promise<Message[]>;
  /**
   * The record Lambda hands the function for `body` sent to `name` and received `receives` times
   * (made visible again at once between receives): a real message, in flight, its receipt handle
   * good for ChangeMessageVisibility and DeleteMessage.
   */
  received(name: QueueName, body: string, receives?: number): Promise<SQSRecord>;
  /** Deletes from `name` the records of `event` that `result` does not name as failed, as Lambda's event source mapping does. */
  settle(name: QueueName, event: SQSEvent, result: SQSBatchResponse): Promise<void>;
  /** The mail SES accepted, newest first. */
  mail(): SentMail[];
  /** A schedule of the functions' group as GetSchedule answers it, or undefined when there is none. */
  schedule(name: string): Promise<GetScheduleCommandOutput | undefined>;
  /** Every schedule of the functions' group. */
  scheduleNames(): string[];
  /** Opens a WebSocket connection through the gateway. */
  openSocket(): Promise<OpenSocket>;
  stop(): Promise<void>;
}

export interface LocalAwsOptions {
  readonly sqs?: boolean;
  readonly scheduler?: boolean;
  readonly ses?: boolean;
  readonly websocket?: boolean;
  /** Variables to add to (or override in) the function's environment. */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Leaves e-mail without a send budget in this process, for tests of a handler's wiring that send
 * on the real clock. A budget's reservation holds only for its own second
 * (shared/domain/rate-budget.ts): a first send that a starved machine started late is planned
 * again, not made, which such a test cannot tell from a fault (seen once in a full suite, the
 * send of a cold sandbox beside two other files' imports). SES's quota is made unreadable for the
 * one read a process makes (`AccessDenied`, as to a role without `ses:GetSendQuota`), so e-mail
 * has no budget, as in a deployment whose SES does not tell (send-budgets.ts); the budget the
 * test environment configures is taken out of `process.env` first. `loadSendBudgets` is that
 * module's, imported after the environment was set. The budgets are tested on a clock of
 * their own (dynamo-delivery-store.test.ts) and end to end (send-rates.test.ts).
 */
export async function withoutSesSendBudget(aws: Pick<LocalAws, 'calls'>, loadSendBudgets: () => Promise<void>): Promise<void> {
  aws.calls.fail('ses', 'GetSendQuota', { statusCode: 403, code: 'AccessDenied', message: 'not authorized to perform: ses:GetSendQuota' });
  Reflect.deleteProperty(process.env, configuredSesBudget);
  await loadSendBudgets();
  if (!aws.calls.calls('ses').includes('GetSendQuota')) throw new Error('the send budgets were loaded before: call withoutSesSendBudget before the first claim');
  aws.calls.reset();
}

/** Starts DynamoDB and the emulators asked for, each behind one recording hook. */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const calls = recordingHook();
  const faultable = { hook: calls.hook };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const endpoint = await startDynamoDbEndpoint({ faultable, region, log: () => undefined });
    stops.push(() => endpoint.stop());
    const client = new DynamoDBClient({ endpoint: endpoint.endpoint, region, credentials });
    stops.push(async () => client.destroy());
    for (const table of tables) await client.send(new CreateTableCommand({ ...createTableInput(table), TableName: table.name }));
    const dynamo: LocalDynamo = {
      endpoint: endpoint.endpoint,
      client,
      documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      writes: () => endpoint.writes(),
      stop: () => endpoint.stop(),
    };
    const front = await startWireFront('dynamodb', endpoint.faultableEndpoint ?? '');
    stops.push(() => front.stop());
    const endpoints: Record<string, string> = { AWS_ENDPOINT_URL_DYNAMODB: front.endpoint };
    const env = localFunctionEnv(front.endpoint);
    const queueUrls = new Map(queues.map((q) => [q.name, env[q.urlEnvVar] ?? '']));

    let sqs: SQSClient | undefined;
    // Where the scheduler fires: nowhere without SQS (a test's schedules are never due before it ends).
    let sqsEndpoint = 'http://127.0.0.1:1';
    if (options.sqs) {
      const emulator = await startSqsEmulator({ faultable });
      sqsEndpoint = emulator.endpoint;
      stops.push(() => emulator.stop());
      endpoints.AWS_ENDPOINT_URL_SQS = emulator.faultableEndpoint ?? '';
      const plain = new SQSClient({ endpoint: emulator.endpoint, region, credentials, useQueueUrlAsEndpoint: false });
      stops.push(async () => plain.destroy());
      for (const queue of queues) {
        await plain.send(new CreateQueueCommand({ QueueName: `test-${queue.name}`, Attributes: { VisibilityTimeout: String(queue.visibilityTimeoutSeconds) } }));
      }
      sqs = plain;
    }

    let scheduler: SchedulerEmulator | undefined;
    let schedulerClient: SchedulerClient | undefined;
    if (options.scheduler) {
      scheduler = await startSchedulerEmulator({ region, sqsEndpoint, faultable, log: () => undefined });
      const started = scheduler;
      stops.push(() => started.stop());
      endpoints.AWS_ENDPOINT_URL_SCHEDULER = scheduler.faultableEndpoint ?? '';
      schedulerClient = new SchedulerClient({ endpoint: scheduler.endpoint, region, credentials });
      const plain = schedulerClient;
      stops.push(async () => plain.destroy());
      await schedulerClient.send(new CreateScheduleGroupCommand({ Name: env.HERALD_SCHEDULE_GROUP }));
    }

    let ses: SesEmulator | undefined;
    if (options.ses) {
      ses = await startSesEmulator({ port: 0, faultable: { hook: calls.hook, port: 0 }, log: () => undefined });
      const started = ses;
      stops.push(() => started.stop());
      endpoints.AWS_ENDPOINT_URL_SES = ses.faultableEndpoint ?? '';
    }

    let gateway: RunningWebSocketGateway | undefined;
    const connecting: string[] = [];
    if (options.websocket) {
      gateway = await startWebSocketGateway({
        port: 0,
        region,
        routes: {
          $connect: async (event) => {
            connecting.push(event.requestContext.connectionId);
            return { statusCode: 200 };
          },
          $disconnect: async () => ({ statusCode: 200 }),
        },
        faultable,
        log: () => undefined,
      });
      const started = gateway;
      stops.push(() => started.stop());
      endpoints.HERALD_WS_CALLBACK_URL = gateway.faultableCallbackUrl ?? '';
    }

    const requireSqs = (): SQSClient => {
      if (!sqs) throw new Error('startLocalAws was not asked for SQS');
      return sqs;
    };
    return {
      env: { ...env, ...endpoints, ...options.extra },
      calls,
      dynamo,
      dynamoFront: front,
      clearTables: async (...names) => {
        for (const name of names) {
          const table = tables.find((t) => t.name === name);
          if (!table) throw new Error(`No table ${name}`);
          const keyNames = [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])];
          const { Items = [] } = await dynamo.documentClient.send(new ScanCommand({ TableName: name }));
          for (let i = 0; i < Items.length; i += 25) {
            const requests = Items.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: Object.fromEntries(keyNames.map((k) => [k, item[k]])) } }));
            await dynamo.documentClient.send(new BatchWriteCommand({ RequestItems: { [name]: requests } }));
          }
        }
      },
      purgeQueues: async () => {
        for (const url of queueUrls.values()) await requireSqs().send(new PurgeQueueCommand({ QueueUrl: url }));
      },
      receive: async (name, afterMs = 0) => {
        const client = requireSqs();
        if (afterMs !== 0) {
          vi.useFakeTimers({ toFake: ['Date'] });
          vi.setSystemTime(Date.now() + afterMs);
        }
        try {
          const { Messages } = await client.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrls.get(name), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
          );
          return Messages ?? [];
        } finally {
          if (afterMs !== 0) vi.useRealTimers();
        }
      },
      received: async (name, body, receives = 1) => {
        const client = requireSqs();
        const QueueUrl = queueUrls.get(name);
        const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        // Received and given back until its `receives`-th receive; any other message taken on the way is given back too.
        for (let receive = 1; ; ) {
          const { Messages = [] } = await client.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
          );
          const ours = Messages.find((m) => m.MessageId === MessageId);
          const others = Messages.filter((m) => m !== ours);
          if (ours && receive === receives) {
            for (const m of others) await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
            return toRecord(ours, `arn:aws:sqs:${region}:111122223333:test-${name}`);
          }
          if (ours) receive += 1;
          for (const m of Messages) await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
          if (Messages.length === 0) throw new Error(`Message ${MessageId ?? ''} is not on ${name}`);
        }
      },
      settle: async (name, event, result) => {
        const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
        for (const record of event.Records.filter((r) => !failed.has(r.messageId))) {
          await requireSqs().send(new DeleteMessageCommand({ QueueUrl: queueUrls.get(name), ReceiptHandle: record.receiptHandle }));
        }
      },
      mail: () => (ses?.mailbox.page({ limit: 1000 }).items ?? []).map(toSentMail),
      schedule: async (name) => {
        if (!schedulerClient) throw new Error('startLocalAws was not asked for the scheduler');
        try {
          return await schedulerClient.send(new GetScheduleCommand({ GroupName: env.HERALD_SCHEDULE_GROUP, Name: name }));
        } catch (error) {
          if ((error as Error).name === 'ResourceNotFoundException') return undefined;
          throw error;
        }
      },
      scheduleNames: () => (scheduler?.listSchedules() ?? []).filter((s) => s.groupName === env.HERALD_SCHEDULE_GROUP).map((s) => s.name),
      openSocket: async () => {
        if (!gateway) throw new Error('startLocalAws was not asked for the WebSocket gateway');
        return openSocket(gateway, connecting);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function openSocket(gateway: RunningWebSocketGateway, connecting: string[]): Promise<OpenSocket> {
  const socket = new WebSocket(gateway.url);
  const received: unknown[] = [];
  const waiting = new Map<string, () => void>();
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { marker?: string };
    if (typeof frame.marker === 'string') waiting.get(frame.marker)?.();
    else received.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const connectionId = connecting.at(-1) ?? '';
  let markers = 0;
  return {
    connectionId,
    frames: async () => {
      // Frames of one connection arrive in the order they were posted: once a marker posted now is
      // back, every frame posted before it is too.
      const marker = `marker-${++markers}`;
      const back = new Promise<void>((resolve) => waiting.set(marker, resolve));
      const response = await fetch(`${gateway.callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: JSON.stringify({ marker }) });
      if (response.status !== 200) throw new Error(`The marker could not be posted to ${connectionId}: ${response.status}`);
      await back;
      return [...received];
    },
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.close();
      await closed;
    },
  };
}

/** The record Lambda builds from one received message (as local/event-source-mapping.ts does). */
function toRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = { ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }), stringListValues: [], binaryListValues: [], dataType: value.DataType ?? 'String' };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes } as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
