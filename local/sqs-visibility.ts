/**
 * Visibility as SQS keeps it, where fauxqs keeps it otherwise. The hooks sit on fauxqs's Fastify
 * app, so both endpoints (the plain one and the functions' faultable one) behave alike.
 */
import type { buildApp } from 'fauxqs';
import type { BuildAppOptions } from 'fauxqs';
import type { FastifyRequest } from 'fastify';

type FauxqsApp = ReturnType<typeof buildApp>;
type SqsStore = NonNullable<BuildAppOptions['stores']>['sqsStore'];
type SqsQueue = NonNullable<ReturnType<SqsStore['getQueue']>>;

const target = (operation: string): string => `AmazonSQS.${operation}`;

function queueOf(store: SqsStore, request: FastifyRequest): SqsQueue | undefined {
  const body = request.body as { QueueUrl?: unknown } | undefined;
  return typeof body?.QueueUrl === 'string' ? store.getQueue(body.QueueUrl) : undefined;
}

/**
 * A ReceiveMessage long poll keeps waiting in fauxqs after its caller has hung up (the local
 * event-source mapping aborts its polls on stop), and a message that arrives then is taken by an
 * answer no one reads: hidden for the queue's whole visibility timeout (180 s for delivery, after
 * a SIGTERM during delivery). On AWS the Lambda poller would have handed it to the function or
 * not taken it. Here an answer whose caller is gone puts its messages back at once, their
 * receive not counted (it must not bring them nearer the dead-letter queue).
 */
export function returnAbandonedReceives(app: FauxqsApp, store: SqsStore): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.headers['x-amz-target'] !== target('ReceiveMessage') || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    // The request ends once read; only its connection says whether anyone still waits for the answer.
    if (!request.raw.socket.destroyed) return payload;
    const queue = queueOf(store, request);
    const { Messages } = JSON.parse(payload) as { Messages?: { ReceiptHandle?: string }[] };
    for (const { ReceiptHandle: handle } of Messages ?? []) {
      const entry = handle ? queue?.inflightMessages.get(handle) : undefined;
      if (!queue || !handle || !entry) continue;
      entry.message.approximateReceiveCount = Math.max(0, entry.message.approximateReceiveCount - 1);
      if (entry.message.approximateReceiveCount === 0) delete entry.message.approximateFirstReceiveTimestamp;
      queue.changeVisibility(handle, 0);
    }
    return JSON.stringify({});
  });
}

/**
 * fauxqs returns expired in-flight (and due delayed) messages to the queue only when something
 * receives from it, so GetQueueAttributes counted a dead letter whose visibility timeout ran out
 * minutes ago as in flight, and a redrive capped by the count moved nothing. On SQS the expiry is
 * continuous and the approximate counts follow it: here the queue's timers run before its
 * attributes are read.
 */
export function countExpiredVisibilityTimeouts(app: FauxqsApp, store: SqsStore): void {
  app.addHook('preHandler', async (request) => {
    if (request.headers['x-amz-target'] === target('GetQueueAttributes')) queueOf(store, request)?.processTimers();
  });
}
