/**
 * Sends one webhook: an HTTP POST of a JSON body with the Standard Webhooks headers, through
 * guarded-post.ts (the SSRF guard, no redirects, one deadline up to the answer's status and
 * headers, however the receiver spaces its bytes): a receiver that trickles its answer must not
 * hold a delivery, or the API request that sends a confirmation code, past the limit. The status
 * settles the send; the body of the answer is never read. An answer other than 2xx is thrown as a
 * WebhookAnswerError carrying the status (what the webhook channel classifies).
 */
import { channel } from 'node:diagnostics_channel';
import { guardedPost } from './guarded-post.ts';
import type { WebhookTargetMode } from './webhook-guard.ts';

/** A receiver's answer other than 2xx. */
export class WebhookAnswerError extends Error {
  readonly $metadata: { readonly httpStatusCode: number };
  constructor(status: number) {
    super(`the webhook answered ${status}`);
    this.name = 'WebhookAnswerError';
    this.$metadata = { httpStatusCode: status };
  }
}

/** No answer within the time limit: it may have been received. */
export class WebhookTimeoutError extends Error {
  constructor(ms: number) {
    super(`the webhook did not answer within ${ms} ms`);
    this.name = 'WebhookTimeoutError';
  }
}

/**
 * Each webhook answered, published on this diagnostics channel as `{ url, headers, body, status }`
 * (no subscriber costs nothing): the local stack's outbox listens.
 */
export const webhookSentChannel = channel('herald:webhook:sent');

/** Posts signed webhooks. */
export interface WebhookSender {
  /** POSTs `body` to `url` with `headers`; resolves with the 2xx status, throws otherwise. */
  post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<number>;
}

/** The longest a receiver may take to answer, from the start of the send to its status and headers (ms); Standard Webhooks advises receivers to answer fast. */
export const webhookTimeoutMs = 10_000;

/** A WebhookSender over node:http(s), guarded for `mode` (guarded-post.ts). */
export function httpWebhookSender(mode: WebhookTargetMode, timeoutMs: number = webhookTimeoutMs): WebhookSender {
  return {
    async post(target, headers, body) {
      const { status } = await guardedPost(new URL(target), {
        mode,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Herald-Webhooks/1', ...headers },
        body,
        timeoutMs,
        timeoutError: () => new WebhookTimeoutError(timeoutMs),
      });
      if (webhookSentChannel.hasSubscribers) webhookSentChannel.publish({ url: target, headers, body, status });
      if (status >= 200 && status < 300) return status;
      throw new WebhookAnswerError(status);
    },
  };
}
