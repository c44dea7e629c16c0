/**
 * Fault rules of the local stack, in the spirit of LocalStack's chaos API: which calls of which
 * emulated AWS service fail, how often, and with which AWS error. The rules are validated here
 * (one zod schema, shared by `POST /_local/faults`, `HERALD_FAULTS` and `startLocalStack`), and
 * the injector decides, call by call, with a seedable random source so tests are repeatable.
 */
import { randomInt } from 'node:crypto';
import * as apigatewaymanagementapi from '@aws-sdk/client-apigatewaymanagementapi';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as scheduler from '@aws-sdk/client-scheduler';
import * as secretsmanager from '@aws-sdk/client-secrets-manager';
import * as sns from '@aws-sdk/client-sns';
import * as ses from '@aws-sdk/client-ses';
import * as sqs from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { parseWith } from '../shared/http/request.ts';
import { ValidationError } from '../shared/errors.ts';

/**
 * The emulated services whose calls can be made to fail: AWS's, the local Web Push service, and
 * the Telegram Bot API (whose faults answer in Telegram's own shape, local/telegram-emulator.ts).
 */
export const faultServices = ['ses', 'dynamodb', 'sqs', 'scheduler', 'apigatewaymanagementapi', 'sns', 'secretsmanager', 'push', 'telegram'] as const;
export type FaultService = (typeof faultServices)[number];

/** Operation names of a service, from its SDK client's `<Operation>Command` exports. */
function operationsOf(client: Record<string, unknown>): ReadonlySet<string> {
  return new Set(
    Object.keys(client)
      .filter((name) => /^[A-Z]\w*Command$/.test(name))
      .map((name) => name.slice(0, -'Command'.length)),
  );
}

/** Every operation each service has, so that a misspelt operation is refused rather than never matching. */
export const serviceOperations: Readonly<Record<FaultService, ReadonlySet<string>>> = {
  ses: operationsOf(ses),
  dynamodb: operationsOf(dynamodb),
  sqs: operationsOf(sqs),
  scheduler: operationsOf(scheduler),
  apigatewaymanagementapi: operationsOf(apigatewaymanagementapi),
  sns: operationsOf(sns),
  secretsmanager: operationsOf(secretsmanager),
  // The local Web Push service (RFC 8030): one operation, a push message request.
  push: new Set(['PushMessage']),
  // The Bot API methods the local Telegram answers.
  telegram: new Set(['getMe', 'sendMessage']),
};

const faultErrorSchema = z.strictObject({
  statusCode: z.int().min(400).max(599),
  code: z
    .string()
    .max(128)
    .regex(/^[A-Za-z][A-Za-z0-9.]*$/, 'must be an AWS error code such as ThrottlingException'),
  message: z.string().max(1024).optional(),
  /** Telegram only: the `parameters.retry_after` of a 429 (seconds). */
  retryAfterSeconds: z.int().min(0).max(3600).optional(),
});

const faultRuleSchema = z
  .strictObject({
    service: z.enum(faultServices),
    operation: z.string().min(1).optional(),
    probability: z.number().min(0).max(1),
    error: faultErrorSchema,
  })
  .superRefine((rule, context) => {
    if (rule.operation !== undefined && !serviceOperations[rule.service].has(rule.operation)) {
      context.addIssue({
        code: 'custom',
        path: ['operation'],
        message: `${rule.operation} is not an operation of ${rule.service}`,
      });
    }
  });

/** The rule set: a JSON array, replaced as a whole. */
export const faultRulesSchema = z.array(faultRuleSchema).max(100);

/** One fault rule: calls of `service` (only `operation`, when given) fail with `error` at `probability`. */
export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultError = FaultRule['error'];

/** Validates a rule set; throws a ValidationError naming every bad field. */
export function parseFaultRules(value: unknown): FaultRule[] {
  return parseWith(faultRulesSchema, value, 'fault rules');
}

/** Validates the JSON text of `HERALD_FAULTS`; throws a ValidationError saying what is wrong. */
export function parseFaultRulesJson(text: string): FaultRule[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError(`Invalid fault rules: not JSON (${reason})`, { cause: error });
  }
  return parseFaultRules(value);
}

/** Faults injected so far, by service and operation: `{ ses: { SendEmail: 3 } }`. */
export type InjectedCounts = Partial<Record<FaultService, Record<string, number>>>;

export interface FaultInjector {
  /** The current rules, in the order they are tried. */
  rules(): readonly FaultRule[];
  /** Replaces the whole rule set (already validated). */
  replace(rules: readonly FaultRule[]): void;
  clear(): void;
  /** The error this call must fail with, if a rule fires; counts the fault when it does. */
  decide(service: FaultService, operation: string): FaultError | undefined;
  /** Faults injected since start-up; clearing the rules does not reset them. */
  injected(): InjectedCounts;
}

export interface FaultInjectorOptions {
  /** Seed of the random source; the same seed and the same calls give the same faults. @default a random seed */
  readonly seed?: number;
  readonly rules?: readonly FaultRule[];
}

/** mulberry32: a tiny, well-distributed 32-bit generator; plenty for coin flips, and seedable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Creates the injector the emulators' call hook consults; the first rule that fires decides the error. */
export function createFaultInjector(options: FaultInjectorOptions = {}): FaultInjector {
  const random = seededRandom(options.seed ?? randomInt(2 ** 31));
  let current: readonly FaultRule[] = [...(options.rules ?? [])];
  const counts = new Map<FaultService, Map<string, number>>();

  return {
    rules: () => current,
    replace(rules) {
      current = [...rules];
    },
    clear() {
      current = [];
    },
    decide(service, operation) {
      for (const rule of current) {
        if (rule.service !== service || (rule.operation !== undefined && rule.operation !== operation)) continue;
        // Draw only for a real chance, so that certain and impossible rules leave the sequence alone.
        const fires = rule.probability >= 1 || (rule.probability > 0 && random() < rule.probability);
        if (!fires) continue;
        const perOperation = counts.get(service) ?? new Map<string, number>();
        perOperation.set(operation, (perOperation.get(operation) ?? 0) + 1);
        counts.set(service, perOperation);
        return rule.error;
      }
      return undefined;
    },
    injected: () => Object.fromEntries([...counts].map(([service, perOperation]) => [service, Object.fromEntries(perOperation)])),
  };
}
