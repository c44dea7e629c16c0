/**
 * Which webhook URLs Herald may post to: the pure half of the SSRF guard (the other half, the check
 * of every address DNS gives at the connect, is shared/adapters/webhook-guard.ts). On a non-local
 * stage (`public-https`) only `https://`, and a literal address only if public unicast; locally
 * (`any`) plain http and loopback too. Address ranges: ipaddr.js's `range()`.
 */
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../errors.ts';

/** `public-https`: AWS stages; `any`: the local stack, where webhooks go to localhost and plain http. */
export const webhookTargetModes = ['public-https', 'any'] as const;
export type WebhookTargetMode = (typeof webhookTargetModes)[number];

/** A webhook URL the guard refuses: nothing was sent (`$notSent`), and nothing ever will be. */
export class WebhookTargetRefusedError extends Error {
  readonly $notSent = true;
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetRefusedError';
  }
}

/**
 * True for a public unicast address (IPv4 or IPv6, IPv4-mapped IPv6 judged as its IPv4): not
 * private (RFC 1918, unique local), loopback, link-local, carrier-grade NAT, multicast, reserved,
 * nor a tunnel form (6to4, Teredo) that could carry one of those.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** Checks what can be checked of `url` before connecting; throws WebhookTargetRefusedError. */
export function checkWebhookUrl(url: URL, mode: WebhookTargetMode): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetRefusedError(`webhook URL scheme ${url.protocol} is not http(s)`);
  if (mode === 'any') return;
  if (url.protocol !== 'https:') throw new WebhookTargetRefusedError('webhook URLs must be https://');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address never goes through `lookup`: judge it here.
  if (ipaddr.isValid(host) && !isPublicAddress(host)) throw new WebhookTargetRefusedError(`webhook host ${host} is not a public address`);
}

/** Why `url` may not be a webhook URL under `mode`, or undefined when it may (for a 400 at write time). */
export function webhookUrlProblem(url: string, mode: WebhookTargetMode): string | undefined {
  try {
    checkWebhookUrl(new URL(url), mode);
    return undefined;
  } catch (error) {
    if (error instanceof WebhookTargetRefusedError) return error.message.replace(/^webhook (URLs |URL |host )?/, '');
    throw error;
  }
}

/** A 400 naming `webhookUrl` when the deployment would never post to it (plain http, a private literal on AWS). */
export function refuseUnreachableWebhook(url: string | null | undefined, mode: WebhookTargetMode = 'public-https'): void {
  const problem = typeof url === 'string' ? webhookUrlProblem(url, mode) : undefined;
  if (problem) throw new ValidationError(`webhookUrl ${problem}`, { details: [{ field: 'webhookUrl', message: problem }] });
}
