/**
 * SQS's 12-hour visibility ceiling, counted from the receive, which fauxqs does not enforce
 * (it only checks that a VisibilityTimeout is within 0..43200): "You can continue to call
 * ChangeMessageVisibility to extend the visibility timeout to the maximum allowed time. If you
 * try to extend the visibility timeout beyond the maximum, your request is rejected" and "the
 * maximum visibility timeout is 12 hours from the time that Amazon SQS receives the
 * ReceiveMessage request" ("ChangeMessageVisibility", SQS API Reference; "Amazon SQS visibility
 * timeout", SQS Developer Guide). SQS refuses such a change with `InvalidParameterValue`, "Value
 * <n> for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message
 * is beyond the limit [43200 seconds]", and a batch entry fails with the same code and message.
 *
 * The hooks sit on fauxqs's Fastify app, so both endpoints (the stack's plain one, through which
 * the event-source mapping receives, and the functions' faultable one) record and enforce alike:
 * the time of each receive is kept by receipt handle from ReceiveMessage's answer.
 */
import type { buildApp } from 'fauxqs';
import { faultResponse } from './aws-call-hook.ts';

type FauxqsApp = ReturnType<typeof buildApp>;

/** The ceiling, in seconds from the receive. */
export const MAX_VISIBILITY_SECONDS = 43_200;

const target = (operation: string): string => `AmazonSQS.${operation}`;

function beyondTheLimit(seconds: number): string {
  return `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds]`;
}

interface BatchEntry {
  readonly Id?: unknown;
  readonly ReceiptHandle?: unknown;
  readonly VisibilityTimeout?: unknown;
}

interface BatchFailure {
  readonly Id: string;
  readonly SenderFault: true;
  readonly Code: 'InvalidParameterValue';
  readonly Message: string;
}

/** Adds the ceiling to fauxqs's app (before it listens); `now` gives epoch ms. */
export function enforceVisibilityCeiling(app: FauxqsApp, now: () => number = Date.now): void {
  /** When each receipt handle was received, oldest first (a Map keeps insertion order). */
  const receivedAt = new Map<string, number>();
  /** Batch entries refused here, to add to fauxqs's answer for the rest. */
  const refusedEntries = new WeakMap<object, BatchFailure[]>();

  /** True when `seconds` from now would hold the message past the ceiling counted from its receive. */
  const pastTheCeiling = (receiptHandle: unknown, seconds: unknown): boolean => {
    if (typeof receiptHandle !== 'string' || typeof seconds !== 'number') return false;
    const received = receivedAt.get(receiptHandle);
    // fauxqs refuses values outside 0..43200 itself; a handle received before a restart is not known here.
    if (received === undefined || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) return false;
    return now() + seconds * 1000 > received + MAX_VISIBILITY_SECONDS * 1000;
  };

  app.addHook('preHandler', async (request, reply) => {
    const operation = request.headers['x-amz-target'];
    const body = request.body as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null) return;
    if (operation === target('ChangeMessageVisibility') && pastTheCeiling(body.ReceiptHandle, body.VisibilityTimeout)) {
      const answer = faultResponse('sqs', 'awsJson', { statusCode: 400, code: 'InvalidParameterValue', message: beyondTheLimit(Number(body.VisibilityTimeout)) });
      await reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
      return reply;
    }
    if (operation === target('ChangeMessageVisibilityBatch') && Array.isArray(body.Entries)) {
      const entries = body.Entries as BatchEntry[];
      const ids = entries.map((entry) => entry.Id);
      // A batch SQS refuses as a whole (too many entries, ids repeated) is fauxqs's to refuse.
      if (entries.length > 10 || new Set(ids).size !== ids.length) return;
      const refused = entries.filter((entry) => pastTheCeiling(entry.ReceiptHandle, entry.VisibilityTimeout));
      if (refused.length === 0) return;
      const failures: BatchFailure[] = refused.map((entry) => ({
        Id: String(entry.Id),
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message: beyondTheLimit(Number(entry.VisibilityTimeout)),
      }));
      const kept = entries.filter((entry) => !refused.includes(entry));
      if (kept.length === 0) {
        await reply.code(200).header('content-type', 'application/x-amz-json-1.0').send(JSON.stringify({ Successful: [], Failed: failures }));
        return reply;
      }
      body.Entries = kept;
      refusedEntries.set(request, failures);
    }
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const operation = request.headers['x-amz-target'];
    if (reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    if (operation === target('ReceiveMessage')) {
      const at = now();
      const { Messages } = JSON.parse(payload) as { Messages?: { ReceiptHandle?: string }[] };
      for (const message of Messages ?? []) if (message.ReceiptHandle) receivedAt.set(message.ReceiptHandle, at);
      forgetOlderThan(receivedAt, at - MAX_VISIBILITY_SECONDS * 1000);
      return payload;
    }
    const failures = refusedEntries.get(request);
    if (operation === target('ChangeMessageVisibilityBatch') && failures) {
      const answer = JSON.parse(payload) as { Successful?: unknown[]; Failed?: unknown[] };
      return JSON.stringify({ ...answer, Failed: [...(answer.Failed ?? []), ...failures] });
    }
    return payload;
  });
}

/** A handle received longer ago than the ceiling is out of flight for good: forget it. */
function forgetOlderThan(receivedAt: Map<string, number>, cutoffMs: number): void {
  for (const [handle, at] of receivedAt) {
    if (at > cutoffMs) break;
    receivedAt.delete(handle);
  }
}
