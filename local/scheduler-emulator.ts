/**
 * Our emulation of the EventBridge Scheduler API subset Herald uses, spoken over HTTP in the
 * restJson1 protocol so `new SchedulerClient({ endpoint })` works against it unchanged.
 *
 * Unlike the free emulators, it really fires: at a one-time schedule's `at()` time, and at each
 * time of a recurring `rate()` or `cron()` schedule (in its time zone, within its StartDate and
 * EndDate, while ENABLED), it sends the target's `Input`, verbatim, to the target SQS queue;
 * failed sends are retried per the target's RetryPolicy and then dead-lettered with the message
 * attributes AWS documents. Expressions are read and their fire times found by
 * `schedule-expressions.ts` ("Schedule types on EventBridge Scheduler").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { recogniseCall, sendWireResponse } from './aws-call-hook.ts';
import type { CallHook } from './aws-call-hook.ts';
import { httpUrl, listen } from './listen.ts';
import { setLongTimeout } from './long-timeout.ts';
import { readBody } from './request-body.ts';
import { nextRecurringFire, parseScheduleExpression, ScheduleExpressionError } from './schedule-expressions.ts';
import type { ScheduleExpression } from './schedule-expressions.ts';
import { withoutSdkLogger } from '../shared/adapters/sdk-logger.ts';

/** The emulator's clock: real time by default, a controllable one in tests. */
export interface SchedulerClock {
  /** Epoch ms. */
  now(): number;
  /** Calls `callback` once `delayMs` have passed on this clock. */
  setTimer(callback: () => void, delayMs: number): { cancel(): void };
}

const realClock: SchedulerClock = { now: () => Date.now(), setTimer: setLongTimeout };

export interface SchedulerEmulatorOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  readonly region: string;
  /** Where the target and dead-letter queues live (fauxqs locally). */
  readonly sqsEndpoint: string;
  /** When set, schedules survive restarts in `<dataDir>/scheduler/schedules.json`. */
  readonly dataDir?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Exponential backoff between delivery retries. @default { baseDelayMs: 1000, maxDelayMs: 60000 } */
  readonly retryBackoff?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Receives one structured entry per notable event. @default one JSON line on stderr */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** When set, a second endpoint whose calls go through the fault and call-count hook: the functions'. */
  readonly faultable?: { readonly hook: CallHook; readonly port?: number };
  /** What "now" is and how timers wait. @default real time */
  readonly clock?: SchedulerClock;
}

/** What operators and tests see of a schedule, including when the emulator will fire it. */
export interface ScheduleView {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly state: ScheduleState;
  readonly scheduleExpression: string;
  readonly scheduleExpressionTimezone: string;
  /** The next time it fires (a recurring schedule's next occurrence). */
  readonly fireAt: Date;
  /** True once a schedule kept by ActionAfterCompletion NONE has fired its last time. */
  readonly completed: boolean;
  readonly targetArn: string;
}

export interface SchedulerEmulator {
  /** Base URL to give `SchedulerClient` (or `AWS_ENDPOINT_URL_SCHEDULER`); never faulted. */
  readonly endpoint: string;
  readonly port: number;
  /** The endpoint with the fault and call-count hook, when `faultable` was given. */
  readonly faultableEndpoint?: string;
  /** Every schedule of every group, sorted by group then name. */
  listSchedules(): ScheduleView[];
  /** Closes the server, clears every timer and waits for deliveries under way. */
  stop(): Promise<void>;
}

/** The operations served; one entry each in the dispatch table, so a wrapper can target one by name. */
export type SchedulerOperationName =
  | 'CreateSchedule'
  | 'GetSchedule'
  | 'UpdateSchedule'
  | 'DeleteSchedule'
  | 'ListSchedules'
  | 'CreateScheduleGroup'
  | 'GetScheduleGroup'
  | 'DeleteScheduleGroup'
  | 'ListScheduleGroups';

type ScheduleState = 'ENABLED' | 'DISABLED';
type ErrorCode = 'ValidationException' | 'ResourceNotFoundException' | 'ConflictException' | 'InternalServerException';

const errorStatus: Record<ErrorCode, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  InternalServerException: 500,
};

/** An error the API answers with; the SDK picks the exception class from `x-amzn-ErrorType`. */
class SchedulerApiError extends Error {
  override readonly name = 'SchedulerApiError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const DEFAULT_GROUP = 'default';
/** AWS's defaults when a target has no RetryPolicy: 185 retries within 24 hours. */
const DEFAULT_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 };

const resourceName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9a-zA-Z-_.]+$/, 'Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+');
const sqsArn = z
  .string()
  .min(1)
  .max(1600)
  .regex(
    /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_-]+(\.fifo)?$/,
    'Member must be an SQS queue ARN: the local scheduler emulator can only deliver to SQS queues',
  );

const targetSchema = z.object({
  Arn: sqsArn,
  RoleArn: z
    .string()
    .min(1)
    .max(1600)
    .regex(/^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'Member must be an IAM role ARN'),
  Input: z.string().min(1).optional(),
  RetryPolicy: z
    .object({
      MaximumEventAgeInSeconds: z.number().int().min(60).max(86_400).optional(),
      MaximumRetryAttempts: z.number().int().min(0).max(185).optional(),
    })
    .optional(),
  DeadLetterConfig: z.object({ Arn: sqsArn.optional() }).optional(),
  SqsParameters: z.object({ MessageGroupId: z.string().min(1).max(128).optional() }).optional(),
});

const scheduleBodySchema = z.object({
  GroupName: resourceName.optional(),
  ScheduleExpression: z.string().min(1).max(256),
  ScheduleExpressionTimezone: z.string().min(1).max(50).optional(),
  StartDate: z.number().optional(),
  EndDate: z.number().optional(),
  Description: z.string().max(512).optional(),
  State: z.enum(['ENABLED', 'DISABLED']).optional(),
  KmsKeyArn: z.string().min(1).max(2048).optional(),
  Target: targetSchema,
  FlexibleTimeWindow: z
    .object({ Mode: z.enum(['OFF', 'FLEXIBLE']), MaximumWindowInMinutes: z.number().int().min(1).max(1440).optional() })
    .refine((window) => window.Mode === 'OFF' || window.MaximumWindowInMinutes !== undefined, {
      message: 'MaximumWindowInMinutes is required when Mode is FLEXIBLE',
    }),
  ActionAfterCompletion: z.enum(['NONE', 'DELETE']).optional(),
  ClientToken: z.string().min(1).max(64).optional(),
});

type TargetRecord = Omit<z.infer<typeof targetSchema>, 'RetryPolicy'> & {
  RetryPolicy: { MaximumEventAgeInSeconds: number; MaximumRetryAttempts: number };
};

interface ScheduleRecord {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: ScheduleState;
  KmsKeyArn?: string;
  Target: TargetRecord;
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  ActionAfterCompletion: 'NONE' | 'DELETE';
  /** Epoch seconds, as restJson1 carries timestamps. */
  CreationDate: number;
  LastModificationDate: number;
  ClientToken?: string;
  /** When the emulator fires it next (epoch ms). */
  fireAtMs: number;
  /** When a rate() without StartDate counts from: its creation or last update (epoch ms; absent in older data files). */
  anchorMs?: number;
  /** Bumped by every update, so a delivery started for an older version never touches the new one. */
  revision: number;
  completed: boolean;
}

interface GroupRecord {
  Name: string;
  Arn: string;
  State: 'ACTIVE';
  CreationDate: number;
  LastModificationDate: number;
}

interface PersistedState {
  version: 1;
  groups: GroupRecord[];
  schedules: ScheduleRecord[];
}

interface OperationRequest {
  /** The `{Name}` path label, decoded. */
  readonly name: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

type Operation = (request: OperationRequest) => Promise<Record<string, unknown>>;

/** Method + path → operation, the restJson1 bindings of the Scheduler model. */
const routes: readonly { method: string; pattern: RegExp; operation: SchedulerOperationName }[] = [
  { method: 'POST', pattern: /^\/schedules\/([^/]+)$/, operation: 'CreateSchedule' },
  { method: 'GET', pattern: /^\/schedules\/([^/]+)$/, operation: 'GetSchedule' },
  { method: 'PUT', pattern: /^\/schedules\/([^/]+)$/, operation: 'UpdateSchedule' },
  { method: 'DELETE', pattern: /^\/schedules\/([^/]+)$/, operation: 'DeleteSchedule' },
  { method: 'GET', pattern: /^\/schedules\/?$/, operation: 'ListSchedules' },
  { method: 'POST', pattern: /^\/schedule-groups\/([^/]+)$/, operation: 'CreateScheduleGroup' },
  { method: 'GET', pattern: /^\/schedule-groups\/([^/]+)$/, operation: 'GetScheduleGroup' },
  { method: 'DELETE', pattern: /^\/schedule-groups\/([^/]+)$/, operation: 'DeleteScheduleGroup' },
  { method: 'GET', pattern: /^\/schedule-groups\/?$/, operation: 'ListScheduleGroups' },
];

/** Starts the emulator: loads persisted schedules, arms their timers and listens for API calls. */
export async function startSchedulerEmulator(options: SchedulerEmulatorOptions): Promise<SchedulerEmulator> {
  const accountId = options.accountId ?? '000000000000';
  const backoff = options.retryBackoff ?? { baseDelayMs: 1000, maxDelayMs: 60_000 };
  const log = options.log ?? ((entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(entry)}\n`));
  const stateFile = options.dataDir === undefined ? undefined : join(options.dataDir, 'scheduler', 'schedules.json');

  const groups = new Map<string, GroupRecord>();
  const schedules = new Map<string, ScheduleRecord>();
  const timers = new Map<string, { cancel(): void }>();
  const deliveries = new Set<Promise<void>>();
  const sqsClients = new Map<string, SQSClient>();
  const stopping = new AbortController();
  const clock = options.clock ?? realClock;

  const now = (): number => clock.now() / 1000;
  const keyOf = (groupName: string, name: string): string => `${groupName}/${name}`;
  const groupArn = (name: string): string => `arn:aws:scheduler:${options.region}:${accountId}:schedule-group/${name}`;
  const scheduleArn = (groupName: string, name: string): string =>
    `arn:aws:scheduler:${options.region}:${accountId}:schedule/${groupName}/${name}`;

  // --- persistence -------------------------------------------------------------------------------

  let queuedSave: Promise<void> | undefined;
  let lastSave: Promise<void> = Promise.resolve();

  /** Writes the whole state atomically; calls made while a write is queued share the next one. */
  function save(): Promise<void> {
    if (stateFile === undefined) return Promise.resolve();
    if (queuedSave) return queuedSave;
    const next = lastSave
      .catch(() => undefined)
      .then(async () => {
        queuedSave = undefined;
        const state: PersistedState = { version: 1, groups: [...groups.values()], schedules: [...schedules.values()] };
        const temporary = `${stateFile}.${randomBytes(6).toString('hex')}.tmp`;
        await mkdir(join(stateFile, '..'), { recursive: true });
        await writeFile(temporary, JSON.stringify(state, null, 2));
        // rename is atomic on one file system: a crash leaves the old file or the new one, never half.
        await rename(temporary, stateFile);
      });
    queuedSave = next;
    lastSave = next;
    return next;
  }

  async function load(): Promise<void> {
    if (stateFile === undefined) return;
    let text: string;
    try {
      text = await readFile(stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`Cannot read scheduler state from ${stateFile}`, { cause: error });
    }
    let state: PersistedState;
    try {
      state = JSON.parse(text) as PersistedState;
    } catch (error) {
      throw new Error(`Scheduler state in ${stateFile} is not valid JSON`, { cause: error });
    }
    if (state.version !== 1) throw new Error(`Unsupported scheduler state version ${String(state.version)} in ${stateFile}`);
    for (const group of state.groups) groups.set(group.Name, group);
    for (const schedule of state.schedules) schedules.set(keyOf(schedule.GroupName, schedule.Name), schedule);
  }

  // --- firing ------------------------------------------------------------------------------------

  function arm(record: ScheduleRecord): void {
    const key = keyOf(record.GroupName, record.Name);
    disarm(key);
    if (record.State !== 'ENABLED' || record.completed || stopping.signal.aborted) return;
    const { revision } = record;
    // A one-time schedule already due (due while the emulator was stopped) fires at once.
    const timer = clock.setTimer(() => {
      timers.delete(key);
      fire(key, revision);
    }, record.fireAtMs - clock.now());
    timers.set(key, timer);
  }

  function disarm(key: string): void {
    timers.get(key)?.cancel();
    timers.delete(key);
  }

  function isCurrent(key: string, revision: number): boolean {
    return schedules.get(key)?.revision === revision;
  }

  function fire(key: string, revision: number): void {
    const record = schedules.get(key);
    if (!record || record.revision !== revision) return;
    const occurrence = structuredClone(record);
    // A recurring schedule is armed for its next time now, not once this delivery and its retries
    // are over; a timer that fired late does not make up for the times it overslept.
    const next = isRecurring(record) ? nextFireOf(record, Math.max(record.fireAtMs, clock.now() - 1)) : undefined;
    if (next !== undefined) {
      record.fireAtMs = next;
      arm(record);
      void save().catch((error: unknown) => log({ level: 'ERROR', source: 'scheduler-emulator', message: 'save failed', error: describe(error) }));
    }
    const delivery = deliver(key, occurrence, next === undefined).catch((error: unknown) =>
      log({ level: 'ERROR', source: 'scheduler-emulator', message: 'delivery crashed', schedule: key, error: describe(error) }),
    );
    deliveries.add(delivery);
    void delivery.finally(() => deliveries.delete(delivery));
  }

  /** Delivers one occurrence; after the `last` one, the schedule is complete. */
  async function deliver(key: string, record: ScheduleRecord, last: boolean): Promise<void> {
    const { Target: target, revision } = record;
    const executionId = randomUUID().replaceAll('-', '').slice(0, 16);
    let retries = 0;
    for (;;) {
      try {
        const body = withContextAttributes(target.Input ?? '{}', {
          'schedule-arn': record.Arn,
          'scheduled-time': new Date(record.fireAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'execution-id': executionId,
          'attempt-number': String(retries + 1),
        });
        // Like the other emulators, it writes only what went wrong: a line per firing filled the
        // terminal of `npm start` and of the benches (a firing shows as its target's invocation).
        await sendMessage(target.Arn, body, target.SqsParameters?.MessageGroupId);
        break;
      } catch (error) {
        const retry = nextRetryDelay(record, retries);
        if (typeof retry === 'string') {
          await deadLetter(record, error, retries, retry);
          break;
        }
        if (!(await sleep(retry, stopping.signal))) return; // stopped: the schedule fires again after the next start
        // A schedule deleted or replaced while we waited must not deliver its old version.
        if (!isCurrent(key, revision)) return;
        retries += 1;
      }
    }
    if (last) await complete(key, revision);
  }

  /** The backoff before the next retry, or which retry limit has run out. */
  function nextRetryDelay(record: ScheduleRecord, retries: number): number | 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' {
    const policy = record.Target.RetryPolicy;
    if (retries >= policy.MaximumRetryAttempts) return 'MaximumRetryAttempts';
    const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** retries);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    if (clock.now() + delay - record.fireAtMs > policy.MaximumEventAgeInSeconds * 1000) return 'MaximumEventAgeInSeconds';
    return delay;
  }

  async function deadLetter(record: ScheduleRecord, error: unknown, retries: number, exhausted: string): Promise<void> {
    const dlqArn = record.Target.DeadLetterConfig?.Arn;
    const failure = describe(error);
    if (dlqArn === undefined) {
      log({ level: 'WARN', source: 'scheduler-emulator', message: 'delivery failed, no dead-letter queue: dropped', schedule: record.Arn, error: failure });
      return;
    }
    // The attributes AWS documents for a dead-letter event of EventBridge Scheduler.
    const attributes: Record<string, string> = {
      ERROR_CODE: failure.code,
      ERROR_MESSAGE: failure.message,
      EXECUTION_ID: randomBytes(8).toString('hex'),
      EXHAUSTED_RETRY_CONDITION: exhausted,
      IS_PAYLOAD_TRUNCATED: 'false',
      RETRY_ATTEMPTS: String(retries),
      SCHEDULED_TIME: new Date(record.fireAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      SCHEDULE_ARN: record.Arn,
      TARGET_ARN: record.Target.Arn,
    };
    const messageAttributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(attributes)) messageAttributes[name] = { DataType: 'String', StringValue: value };
    try {
      await sendMessage(dlqArn, record.Target.Input ?? '{}', undefined, messageAttributes);
      log({ level: 'WARN', source: 'scheduler-emulator', message: 'delivery failed, dead-lettered', schedule: record.Arn, deadLetterQueue: dlqArn, error: failure });
    } catch (dlqError) {
      log({ level: 'ERROR', source: 'scheduler-emulator', message: 'dead-letter delivery failed: dropped', schedule: record.Arn, error: failure, deadLetterError: describe(dlqError) });
    }
  }

  async function complete(key: string, revision: number): Promise<void> {
    const record = schedules.get(key);
    if (!record || record.revision !== revision) return;
    if (record.ActionAfterCompletion === 'DELETE') {
      schedules.delete(key);
    } else {
      record.completed = true;
    }
    await save();
  }

  async function sendMessage(
    queueArn: string,
    body: string,
    messageGroupId?: string,
    messageAttributes?: Record<string, MessageAttributeValue>,
  ): Promise<void> {
    const [, , , region = options.region, , queueName = ''] = queueArn.split(':');
    const sqs = sqsClientFor(region);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: messageGroupId, MessageAttributes: messageAttributes }),
    );
  }

  function sqsClientFor(region: string): SQSClient {
    let client = sqsClients.get(region);
    if (!client) {
      client = withoutSdkLogger(
        new SQSClient({
          region,
          endpoint: options.sqsEndpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          // Our RetryPolicy decides about retries, as the real service does, not the SDK's.
          maxAttempts: 1,
        }),
      );
      sqsClients.set(region, client);
    }
    return client;
  }

  // --- operations --------------------------------------------------------------------------------

  function requireGroup(name: string): GroupRecord {
    const group = groups.get(name);
    if (!group) throw new SchedulerApiError('ResourceNotFoundException', `Schedule group ${name} does not exist.`);
    return group;
  }

  function requireSchedule(groupName: string, name: string): ScheduleRecord {
    requireGroup(groupName);
    const record = schedules.get(keyOf(groupName, name));
    if (!record) throw new SchedulerApiError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return record;
  }

  /** Validates a Create/Update body into a record (without its bookkeeping dates). */
  function scheduleFromRequest(request: OperationRequest): Omit<ScheduleRecord, 'CreationDate' | 'LastModificationDate' | 'revision'> {
    const name = parse(resourceName, request.name, 'name');
    const input = parse(scheduleBodySchema, request.body, '');
    const groupName = input.GroupName ?? DEFAULT_GROUP;
    const timezone = input.ScheduleExpressionTimezone ?? 'UTC';
    const nowMs = clock.now();
    const expression = readExpression(input.ScheduleExpression, timezone);
    checkDates(input.StartDate, input.EndDate, nowMs);
    let fireAtMs: number;
    let completed = false;
    if (expression.kind === 'at') {
      // AWS refuses an at() already past (see docs/architecture.md, "The local stack"); the
      // current second still counts as now. StartDate and EndDate do not apply to one-time schedules.
      if (expression.atMs < Math.floor(nowMs / 1000) * 1000) {
        throw new SchedulerApiError('ValidationException', `The schedule expression ${input.ScheduleExpression} is in the past.`);
      }
      fireAtMs = expression.atMs;
    } else {
      const next = nextRecurringFire(expression, nowMs - 1, windowOf(input, nowMs));
      // A schedule whose EndDate leaves it no time to fire is kept, and never fires.
      completed = next === undefined;
      fireAtMs = next ?? nowMs;
    }
    return {
      Name: name,
      GroupName: groupName,
      Arn: scheduleArn(groupName, name),
      ScheduleExpression: input.ScheduleExpression,
      ScheduleExpressionTimezone: timezone,
      StartDate: input.StartDate,
      EndDate: input.EndDate,
      Description: input.Description,
      State: input.State ?? 'ENABLED',
      KmsKeyArn: input.KmsKeyArn,
      Target: { ...input.Target, RetryPolicy: { ...DEFAULT_RETRY_POLICY, ...input.Target.RetryPolicy } },
      FlexibleTimeWindow: input.FlexibleTimeWindow,
      ActionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
      ClientToken: input.ClientToken,
      fireAtMs,
      anchorMs: nowMs,
      completed,
    };
  }

  function isRecurring(record: ScheduleRecord): boolean {
    return !record.ScheduleExpression.startsWith('at(');
  }

  /** The time a recurring schedule fires next, strictly after `afterMs`; undefined when it never does again. */
  function nextFireOf(record: ScheduleRecord, afterMs: number): number | undefined {
    const expression = readExpression(record.ScheduleExpression, record.ScheduleExpressionTimezone);
    return nextRecurringFire(expression, afterMs, windowOf(record, record.anchorMs ?? record.LastModificationDate * 1000));
  }

  const operations: Record<SchedulerOperationName, Operation> = {
    async CreateSchedule(request) {
      const candidate = scheduleFromRequest(request);
      requireGroup(candidate.GroupName);
      const key = keyOf(candidate.GroupName, candidate.Name);
      const existing = schedules.get(key);
      if (existing) {
        // The SDK retries with the same ClientToken: a repeated request succeeds, a new one conflicts.
        if (candidate.ClientToken !== undefined && existing.ClientToken === candidate.ClientToken) {
          return { ScheduleArn: existing.Arn };
        }
        throw new SchedulerApiError('ConflictException', `Schedule ${candidate.Name} already exists.`);
      }
      const record: ScheduleRecord = { ...candidate, CreationDate: now(), LastModificationDate: now(), revision: 1 };
      schedules.set(key, record);
      arm(record);
      await save();
      return { ScheduleArn: record.Arn };
    },

    async GetSchedule(request) {
      const name = parse(resourceName, request.name, 'name');
      const groupName = parse(resourceName.optional(), request.query.get('groupName') ?? undefined, 'groupName') ?? DEFAULT_GROUP;
      return scheduleOutput(requireSchedule(groupName, name));
    },

    async UpdateSchedule(request) {
      const candidate = scheduleFromRequest(request);
      const existing = requireSchedule(candidate.GroupName, candidate.Name);
      // UpdateSchedule replaces every property: what the request omits takes its default again.
      const record: ScheduleRecord = {
        ...candidate,
        CreationDate: existing.CreationDate,
        LastModificationDate: now(),
        revision: existing.revision + 1,
      };
      schedules.set(keyOf(record.GroupName, record.Name), record);
      arm(record);
      await save();
      return { ScheduleArn: record.Arn };
    },

    async DeleteSchedule(request) {
      const name = parse(resourceName, request.name, 'name');
      const groupName = parse(resourceName.optional(), request.query.get('groupName') ?? undefined, 'groupName') ?? DEFAULT_GROUP;
      requireSchedule(groupName, name);
      const key = keyOf(groupName, name);
      disarm(key);
      schedules.delete(key);
      await save();
      return {};
    },

    async ListSchedules(request) {
      const groupName = parse(resourceName.optional(), request.query.get('ScheduleGroup') ?? undefined, 'groupName');
      const namePrefix = parse(resourceName.optional(), request.query.get('NamePrefix') ?? undefined, 'namePrefix');
      const state = parse(z.enum(['ENABLED', 'DISABLED']).optional(), request.query.get('State') ?? undefined, 'state');
      const matching = sortedSchedules().filter(
        (record) =>
          (groupName === undefined || record.GroupName === groupName) &&
          (namePrefix === undefined || record.Name.startsWith(namePrefix)) &&
          (state === undefined || record.State === state),
      );
      const page = paginate(matching, request.query, (record) => keyOf(record.GroupName, record.Name));
      return {
        Schedules: page.items.map((record) => ({
          Arn: record.Arn,
          Name: record.Name,
          GroupName: record.GroupName,
          State: record.State,
          CreationDate: record.CreationDate,
          LastModificationDate: record.LastModificationDate,
          Target: { Arn: record.Target.Arn },
        })),
        NextToken: page.nextToken,
      };
    },

    async CreateScheduleGroup(request) {
      const name = parse(resourceName, request.name, 'name');
      if (groups.has(name)) throw new SchedulerApiError('ConflictException', `Schedule group ${name} already exists.`);
      const group: GroupRecord = { Name: name, Arn: groupArn(name), State: 'ACTIVE', CreationDate: now(), LastModificationDate: now() };
      groups.set(name, group);
      await save();
      return { ScheduleGroupArn: group.Arn };
    },

    async GetScheduleGroup(request) {
      const group = requireGroup(parse(resourceName, request.name, 'name'));
      return { ...group };
    },

    async DeleteScheduleGroup(request) {
      const name = parse(resourceName, request.name, 'name');
      if (name === DEFAULT_GROUP) throw new SchedulerApiError('ValidationException', 'Cannot delete the default schedule group.');
      requireGroup(name);
      // AWS deletes the group's schedules with it (asynchronously); here it is immediate.
      for (const record of [...schedules.values()]) {
        if (record.GroupName !== name) continue;
        const key = keyOf(record.GroupName, record.Name);
        disarm(key);
        schedules.delete(key);
      }
      groups.delete(name);
      await save();
      return {};
    },

    async ListScheduleGroups(request) {
      const namePrefix = parse(resourceName.optional(), request.query.get('NamePrefix') ?? undefined, 'namePrefix');
      const matching = [...groups.values()]
        .filter((group) => namePrefix === undefined || group.Name.startsWith(namePrefix))
        .sort((a, b) => compare(a.Name, b.Name));
      const page = paginate(matching, request.query, (group) => group.Name);
      return { ScheduleGroups: page.items, NextToken: page.nextToken };
    },
  };

  function sortedSchedules(): ScheduleRecord[] {
    return [...schedules.values()].sort((a, b) => compare(keyOf(a.GroupName, a.Name), keyOf(b.GroupName, b.Name)));
  }

  // --- HTTP --------------------------------------------------------------------------------------

  async function handle(request: IncomingMessage, response: ServerResponse, hook: CallHook | undefined): Promise<void> {
    if (hook) {
      const call = recogniseCall('scheduler', { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers });
      const fault = call ? hook('scheduler', call, request.headers) : undefined;
      if (fault) {
        sendWireResponse(response, fault);
        return;
      }
    }
    const url = new URL(request.url ?? '/', 'http://scheduler.local');
    const route = routes.find((candidate) => candidate.method === request.method && candidate.pattern.test(url.pathname));
    if (!route) {
      sendJson(response, 404, { Message: `No operation for ${request.method ?? '?'} ${url.pathname}` }, 'UnknownOperationException');
      return;
    }
    try {
      const label = route.pattern.exec(url.pathname)?.[1];
      const body = await readJson(request);
      const output = await operations[route.operation]({
        name: label === undefined ? '' : decodeURIComponent(label),
        query: url.searchParams,
        body,
      });
      sendJson(response, 200, output);
    } catch (error) {
      if (error instanceof SchedulerApiError) {
        sendJson(response, errorStatus[error.code], { Message: error.message }, error.code);
        return;
      }
      log({ level: 'ERROR', source: 'scheduler-emulator', message: `${route.operation} failed`, error: describe(error) });
      sendJson(response, 500, { Message: 'Unexpected error occurred while processing the request' }, 'InternalServerException');
    }
  }

  await load();
  if (!groups.has(DEFAULT_GROUP)) {
    groups.set(DEFAULT_GROUP, { Name: DEFAULT_GROUP, Arn: groupArn(DEFAULT_GROUP), State: 'ACTIVE', CreationDate: now(), LastModificationDate: now() });
  }
  for (const record of schedules.values()) {
    // A schedule stored by an earlier version under rules it no longer takes (a zone such as `PST`)
    // is kept, as the data directory holds it, but not armed: one such record must not stop the stack.
    try {
      readExpression(record.ScheduleExpression, record.ScheduleExpressionTimezone);
    } catch (error) {
      log({ level: 'WARN', source: 'scheduler-emulator', message: 'stored schedule no longer valid: it will not fire', schedule: record.Arn, error: describe(error) });
      continue;
    }
    // A recurring schedule does not make up for the times it missed while the emulator was stopped.
    if (isRecurring(record) && !record.completed && record.fireAtMs < clock.now()) {
      const next = nextFireOf(record, clock.now() - 1);
      if (next === undefined) record.completed = true;
      else record.fireAtMs = next;
    }
    arm(record);
  }

  const host = options.host ?? '127.0.0.1';
  const servers: Server[] = [];
  const closeServers = async (): Promise<void> => {
    const closing = servers.filter((server) => server.listening).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeAllConnections();
    await Promise.all(closing);
  };
  const serve = (hook: CallHook | undefined): Server => {
    const server = createServer((request, response) => void handle(request, response, hook));
    servers.push(server);
    return server;
  };
  let port: number;
  let faultableEndpoint: string | undefined;
  try {
    port = await listen(serve(undefined), options.port ?? 0, host);
    if (options.faultable) faultableEndpoint = httpUrl(host, await listen(serve(options.faultable.hook), options.faultable.port ?? 0, host));
  } catch (error) {
    for (const key of [...timers.keys()]) disarm(key);
    await closeServers();
    throw error;
  }
  let stopped: Promise<void> | undefined;

  return {
    endpoint: httpUrl(host, port),
    port,
    ...(faultableEndpoint ? { faultableEndpoint } : {}),
    listSchedules: () =>
      sortedSchedules().map((record) => ({
        name: record.Name,
        groupName: record.GroupName,
        arn: record.Arn,
        state: record.State,
        scheduleExpression: record.ScheduleExpression,
        scheduleExpressionTimezone: record.ScheduleExpressionTimezone,
        fireAt: new Date(record.fireAtMs),
        completed: record.completed,
        targetArn: record.Target.Arn,
      })),
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        for (const key of [...timers.keys()]) disarm(key);
        await closeServers();
        await Promise.allSettled([...deliveries]);
        await lastSave.catch((error: unknown) =>
          log({ level: 'ERROR', source: 'scheduler-emulator', message: 'last save failed', error: describe(error) }),
        );
        for (const client of sqsClients.values()) client.destroy();
        sqsClients.clear();
      })();
      return stopped;
    },
  };
}

/** The GetSchedule output shape of a stored record (undefined members are left out of the JSON). */
function scheduleOutput(record: ScheduleRecord): Record<string, unknown> {
  return {
    Arn: record.Arn,
    GroupName: record.GroupName,
    Name: record.Name,
    ScheduleExpression: record.ScheduleExpression,
    ScheduleExpressionTimezone: record.ScheduleExpressionTimezone,
    StartDate: record.StartDate,
    EndDate: record.EndDate,
    Description: record.Description,
    State: record.State,
    CreationDate: record.CreationDate,
    LastModificationDate: record.LastModificationDate,
    KmsKeyArn: record.KmsKeyArn,
    Target: record.Target,
    FlexibleTimeWindow: record.FlexibleTimeWindow,
    ActionAfterCompletion: record.ActionAfterCompletion,
  };
}

/** The expression read in its time zone; a ValidationException naming what is wrong if it cannot be. */
function readExpression(expression: string, timeZone: string): ScheduleExpression {
  try {
    return parseScheduleExpression(expression, timeZone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) throw new SchedulerApiError('ValidationException', error.message, { cause: error });
    throw error;
  }
}

/** Where a recurring schedule may fire (restJson1 carries StartDate and EndDate in epoch seconds); a rate() without StartDate counts from `anchorMs`. */
function windowOf(dates: { readonly StartDate?: number; readonly EndDate?: number }, anchorMs: number): { startMs?: number; endMs?: number; anchorMs: number } {
  return {
    ...(dates.StartDate !== undefined ? { startMs: dates.StartDate * 1000 } : {}),
    ...(dates.EndDate !== undefined ? { endMs: dates.EndDate * 1000 } : {}),
    anchorMs,
  };
}

/**
 * AWS refuses a StartDate more than 5 minutes before now with "The StartDate you specify cannot
 * be earlier than 5 minutes ago." (as moto and the CDK's Schedule construct check it too); an
 * EndDate that is not after the StartDate is refused here in words of our own.
 */
function checkDates(startDate: number | undefined, endDate: number | undefined, nowMs: number): void {
  if (startDate !== undefined && startDate * 1000 < nowMs - 5 * 60_000) {
    throw new SchedulerApiError('ValidationException', 'The StartDate you specify cannot be earlier than 5 minutes ago.');
  }
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
    throw new SchedulerApiError('ValidationException', 'The EndDate you specify must be later than the StartDate.');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [field, ...(issue?.path ?? []).map(String)].filter((segment) => segment !== '').join('.');
  throw new SchedulerApiError(
    'ValidationException',
    `1 validation error detected: Value at '${path || 'body'}' failed to satisfy constraint: ${issue ? constraintOf(issue) : 'invalid'}`,
  );
}

/** Words the service uses for a broken constraint, so messages read like AWS's own. */
function constraintOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'string'
        ? `Member must have length less than or equal to ${issue.maximum}`
        : `Member must have value less than or equal to ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `Member must have length greater than or equal to ${issue.minimum}`
        : `Member must have value greater than or equal to ${issue.minimum}`;
    case 'invalid_value':
      return `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
    case 'invalid_type':
      return issue.input === undefined ? 'Member must not be null' : `Member must be of type ${issue.expected}`;
    default:
      return issue.message;
  }
}

function paginate<T>(items: readonly T[], query: URLSearchParams, keyOf: (item: T) => string): { items: T[]; nextToken?: string } {
  const maxResults = parse(z.coerce.number().int().min(1).max(100).optional(), query.get('MaxResults') ?? undefined, 'maxResults') ?? 100;
  const token = query.get('NextToken');
  let start = 0;
  if (token !== null) {
    const after = Buffer.from(token, 'base64url').toString('utf8');
    start = items.findIndex((item) => compare(keyOf(item), after) > 0);
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + maxResults);
  const last = page.at(-1);
  const nextToken = start + maxResults < items.length && last !== undefined ? Buffer.from(keyOf(last)).toString('base64url') : undefined;
  return { items: page, nextToken };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request, 1024 * 1024);
  if (body === undefined) throw new SchedulerApiError('ValidationException', 'Request body is too large.');
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SchedulerApiError('ValidationException', 'Request body is not valid JSON.', { cause: error });
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(payload);
}

/** Error code and message as AWS reports them (SDK errors carry `Code` for query-compatible services). */
function describe(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = (error as Error & { Code?: unknown }).Code;
    return { code: typeof code === 'string' ? code : error.name, message: error.message };
  }
  return { code: 'Error', message: String(error) };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The target input with EventBridge Scheduler's context attributes replaced: `<aws.scheduler.schedule-arn>`,
 * `<aws.scheduler.scheduled-time>` (the occurrence's time, e.g. `2022-03-22T18:59:43Z`),
 * `<aws.scheduler.execution-id>` and `<aws.scheduler.attempt-number>` ("Adding context attributes
 * in EventBridge Scheduler", EventBridge Scheduler User Guide).
 */
export function withContextAttributes(input: string, values: Readonly<Record<string, string>>): string {
  return input.replace(/<aws\.scheduler\.([a-z-]+)>/g, (keyword, name: string) => values[name] ?? keyword);
}
