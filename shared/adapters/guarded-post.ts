/**
 * One HTTP POST to a URL a user gave Herald (a webhook URL, a browser's push endpoint), made so
 * that the URL cannot turn Herald against its own network or hold it for long:
 * - through the SSRF guard (webhook-guard.ts): in `public-https` mode only `https://`, to public
 *   unicast addresses, checked as written and again for every address DNS gives at the connect;
 * - never following a redirect (node:http does not), so a public host cannot hand the request on
 *   to a private one;
 * - on a fresh connection each time (a pooled socket would skip the guarded lookup);
 * - under one deadline for the whole exchange, from the lookup to the status line and headers,
 *   however the far end spaces its bytes (`req.setTimeout` would only bound each silence); the
 *   answer's body is read only up to `answerBytes`, and only while the deadline lasts.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkWebhookUrl, guardedLookup } from './webhook-guard.ts';
import type { WebhookTargetMode } from './webhook-guard.ts';

/** What to post, where, and how long to wait. */
export interface GuardedPostRequest {
  readonly mode: WebhookTargetMode;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: string | Uint8Array;
  /** From the start of the send to the answer's status and headers, ms. */
  readonly timeoutMs: number;
  /** The error thrown when no status came within `timeoutMs`. */
  readonly timeoutError: () => Error;
  /** How much of the answer's body to read (bytes); 0 reads none. @default 0 */
  readonly answerBytes?: number;
}

/** The far end's answer: its status, headers, and the start of its body (UTF-8). */
export interface GuardedAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * POSTs `request.body` to `url` under the guard and the deadline (see the module). Throws
 * WebhookTargetRefusedError for a URL or address the mode refuses (nothing was sent), the request's
 * own error when no connection was made, and `timeoutError()` when no status came in time.
 */
export async function guardedPost(url: URL, request: GuardedPostRequest): Promise<GuardedAnswer> {
  checkWebhookUrl(url, request.mode);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const answerBytes = request.answerBytes ?? 0;
  return new Promise<GuardedAnswer>((resolve, reject) => {
    let settled = false;
    let answered: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[] } | undefined;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      outcome();
    };
    const resolveAnswer = (): void => {
      if (!answered) return;
      const { status, headers, chunks } = answered;
      settle(() => resolve({ status, headers, text: Buffer.concat(chunks).subarray(0, answerBytes).toString('utf8') }));
    };
    const req = send(url, { method: 'POST', lookup: guardedLookup(request.mode), agent: false, headers: request.headers }, (res) => {
      answered = { status: res.statusCode ?? 0, headers: res.headers, chunks: [] };
      // A body cut short (or cut by us) still leaves the status, which is the answer.
      res.on('error', resolveAnswer);
      if (answerBytes <= 0) return resolveAnswer();
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        answered?.chunks.push(chunk);
        size += chunk.length;
        if (size >= answerBytes) resolveAnswer();
      });
      res.on('end', resolveAnswer);
    });
    // The status is the answer: past the deadline, what came of the body is enough.
    const deadline = setTimeout(() => (answered ? resolveAnswer() : settle(() => reject(request.timeoutError()))), request.timeoutMs);
    req.on('error', (error) => settle(() => reject(error)));
    req.end(request.body);
  });
}
