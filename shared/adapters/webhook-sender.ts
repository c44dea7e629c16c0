/**
 * Sends one webhook: an HTTP POST of a JSON body with the Standard Webhooks headers, through the
 * SSRF guard (webhook-guard.ts), with a time limit, never following a redirect. An answer other
 * than 2xx is thrown as a WebhookAnswerError carrying the status (what the webhook channel
 * classifies); the body of the answer is read and dropped.
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

/** The longest a receiver may take to answer (ms); Standard Webhooks advises receivers to answer fast. */
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
            res.resume();
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if (webhookSentChannel.hasSubscribers) webhookSentChannel.publish({ url: target, headers, body, status });
              if (status >= 200 && status < 300) resolve(status);
              else reject(new WebhookAnswerError(status));
            });
            res.on('error', reject);
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new WebhookTimeoutError(timeoutMs)));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}
