/**
 * Sends one webhook: an HTTP POST of a JSON body with the Standard Webhooks headers, through the
 * SSRF guard (webhook-guard.ts), never following a redirect. The time limit covers the whole
 * exchange up to the answer's status line and headers (resolving the host, connecting, sending,
 * waiting), not each pause between packets: a receiver that trickles its headers a byte at a time
 * must not hold a delivery, or the API request that sends a confirmation code, past it. The status
 * settles the send; the body of the answer is never read (the connection, never pooled, is closed).
 * An answer other than 2xx is thrown as a WebhookAnswerError carrying the status (what the webhook
 * channel classifies).
 */
import { channel } from 'node:diagnostics_channel';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkWebhookUrl, guardedLookup } from './webhook-guard.ts';
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

/** A WebhookSender over node:http(s), guarded for `mode`. */
export function httpWebhookSender(mode: WebhookTargetMode, timeoutMs: number = webhookTimeoutMs): WebhookSender {
  const lookup = guardedLookup(mode);
  return {
    async post(target, headers, body) {
      const url = new URL(target);
      checkWebhookUrl(url, mode);
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            lookup,
            // A fresh connection each time: a pooled socket would skip the guarded lookup.
            agent: false,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Herald-Webhooks/1', ...headers },
          },
          (res) => {
            clearTimeout(deadline);
            const status = res.statusCode ?? 0;
            // The status is the whole answer Herald reads: waiting for the body would let a
            // receiver that never ends it hold the send for ever.
            res.destroy();
            if (webhookSentChannel.hasSubscribers) webhookSentChannel.publish({ url: target, headers, body, status });
            if (status >= 200 && status < 300) resolve(status);
            else reject(new WebhookAnswerError(status));
          },
        );
        // One deadline for the whole exchange: `req.setTimeout` would only bound each silence.
        const deadline = setTimeout(() => req.destroy(new WebhookTimeoutError(timeoutMs)), timeoutMs);
        req.on('error', (error) => {
          clearTimeout(deadline);
          reject(error);
        });
        req.end(body);
      });
    },
  };
}
