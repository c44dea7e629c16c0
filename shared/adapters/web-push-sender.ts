/**
 * Web Push: the request is web-push-request.ts's (the payload encrypted by the `web-push` library,
 * `aes128gcm`, RFC 8188/8291; the VAPID JWT, RFC 8292, signed with jose); it goes out
 * through guarded-post.ts, as webhooks do, since a subscription's endpoint is whatever the user's
 * client sent: on AWS only https to public addresses (the browsers' push services), never a
 * redirect, one deadline; on the local stack anything, its plain-HTTP push service included. A
 * push service answers 201 with the message's URL in `Location` (RFC 8030, 5); its errors are
 * raised with the shape the engine classifies (`name`, `$metadata.httpStatusCode`, `retryAfterMs`
 * from `Retry-After`).
 */
import { pushEndpointProblem } from '../domain/push-targets.ts';
import { WebhookTargetRefusedError } from '../domain/webhook-targets.ts';
import { guardedPost } from './guarded-post.ts';
import { vapidAuthorization, webPushRequest } from './web-push-request.ts';
import type { WebPushRequest } from './web-push-request.ts';
import type { GuardedAnswer } from './guarded-post.ts';
import type { WebPushSubscription } from '../domain/push-targets.ts';
import type { WebPushSender } from '../delivery/channels/push.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** A push service's refusal, as the engine classifies it. */
export class WebPushError extends Error {
  readonly $metadata: { readonly httpStatusCode: number };
  readonly retryAfterMs?: number;

  constructor(status: number, body: string, retryAfterMs: number | undefined) {
    super(`the push service answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.name = 'WebPushError';
    this.$metadata = { httpStatusCode: status };
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** How long a message waits at the push service for an offline browser (the `TTL` header, seconds). */
export const webPushTtlSeconds = 24 * 60 * 60;
/** How long a push service may take to answer, ms. */
const requestTimeoutMs = 10_000;

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** How much of a refusal's body is read: the error keeps its first 200 characters. */
const answerBytesKept = 800;

/** One value of a header node:http may give as a list. */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A request that got no answer, shaped for the engine: an endpoint the SSRF guard refused
 * (`InsecureEndpoint`, never sent, never will be); a connection never made carries its `code`
 * (ECONNREFUSED, ENOTFOUND…: nothing was sent, so it is retried); a timeout is `PushTimeout`, not
 * `TimeoutError`, because the push may have been taken (it is never sent twice).
 */
function unanswered(error: unknown): Error {
  if (error instanceof WebhookTargetRefusedError) {
    // The endpoint is not named: the reason names the host or address, which is enough.
    return Object.assign(new Error(`the push endpoint is refused: ${error.message.replace(/^webhook /, '')}`, { cause: error }), {
      name: 'InsecureEndpoint',
      $metadata: { httpStatusCode: 400 },
      $notSent: true,
    });
  }
  if (error instanceof Error && error.name === 'PushTimeout') return error;
  const code = (error as { code?: unknown }).code;
  const wrapped = new Error(`the push service could not be reached: ${(error as Error).message}`, { cause: error });
  return typeof code === 'string' ? Object.assign(wrapped, { code }) : wrapped;
}

/** Sends Web Push messages signed with the stage's VAPID keys. */
export class LibraryWebPushSender implements WebPushSender {
  private readonly keys: () => Promise<VapidKeys>;
  private readonly subject: () => string;
  private readonly allowHttpLoopback: () => boolean;

  /**
   * `keys` resolves the stage's key pair (read once, then kept); `subject` is the VAPID `sub`, and
   * `allowHttpLoopback` whether plain http to a loopback address is allowed (the local stack only),
   * both read on first use.
   */
  constructor(keys: () => Promise<VapidKeys>, subject: () => string, allowHttpLoopback: () => boolean = () => false) {
    this.keys = keys;
    this.subject = subject;
    this.allowHttpLoopback = allowHttpLoopback;
  }

  async send(subscription: WebPushSubscription, payload: string, options: { readonly urgency: 'normal' | 'high' }): Promise<{ readonly messageId?: string }> {
    const problem = pushEndpointProblem(subscription.endpoint, this.allowHttpLoopback());
    if (problem !== undefined) {
      // Never posted: a subscription stored before the rule, or written around the API. The
      // endpoint is not named: it may not even parse, or may carry credentials.
      throw Object.assign(new Error(`the push endpoint is refused: it ${problem}`), {
        name: 'InsecureEndpoint',
        $metadata: { httpStatusCode: 400 },
        $notSent: true,
      });
    }
    const keys = await this.keys();
    const vapid = { subject: this.subject(), keys };
    const nowMs = Date.now();
    let authorization: string;
    try {
      authorization = await vapidAuthorization(subscription.endpoint, vapid.subject, keys, nowMs);
    } catch (error) {
      // The stage's own key or subject, not the subscription: every push fails so until it is fixed.
      throw Object.assign(new Error(`the stage's VAPID key or subject cannot sign a push: ${(error as Error).message}`, { cause: error }), {
        name: 'VapidConfiguration',
        $metadata: { httpStatusCode: 400 },
        $notSent: true,
      });
    }
    let request: WebPushRequest;
    try {
      request = await webPushRequest(subscription, payload, { vapid, ttlSeconds: webPushTtlSeconds, urgency: options.urgency, nowMs, authorization });
    } catch (error) {
      // Keys the push service could never decrypt for: nothing left, and nothing ever will.
      throw Object.assign(new Error(`the subscription cannot be encrypted for: ${(error as Error).message}`, { cause: error }), {
        name: 'InvalidSubscription',
        $metadata: { httpStatusCode: 400 },
        $notSent: true,
      });
    }
    let answer: GuardedAnswer;
    try {
      // The endpoint is the user's to choose: the webhooks' SSRF guard, no redirects, one deadline.
      answer = await guardedPost(new URL(subscription.endpoint), {
        mode: this.allowHttpLoopback() ? 'any' : 'public-https',
        headers: request.headers,
        body: request.body ?? '',
        timeoutMs: requestTimeoutMs,
        timeoutError: () => Object.assign(new Error(`the push service did not answer within ${requestTimeoutMs} ms`), { name: 'PushTimeout' }),
        answerBytes: answerBytesKept,
      });
    } catch (error) {
      throw unanswered(error);
    }
    if (answer.status >= 200 && answer.status < 300) {
      const location = header(answer.headers.location);
      return location ? { messageId: location } : {};
    }
    throw new WebPushError(answer.status, answer.text, retryAfterMs(header(answer.headers['retry-after']) ?? null));
  }
}
