/**
 * The guard against server-side request forgery on webhooks: a webhook URL is whatever a user
 * typed, so on AWS Herald must never be made to call into its own network (the instance metadata
 * service at 169.254.169.254, a VPC endpoint, localhost). On a non-local stage only `https://` URLs
 * are taken, and only to public unicast addresses: a literal IP is checked as written; a host name
 * is checked inside the connect, through the socket's `lookup`, against every address DNS gives,
 * so a name that resolves to a private address (or is re-pointed after a first check, "DNS
 * rebinding") is refused at the moment of connecting. Redirects are never followed.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

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
 * nor a tunnel form (6to4, Teredo) that could carry one of those. Ranges: ipaddr.js's `range()`.
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
  if (isIP(host) !== 0 && !isPublicAddress(host)) throw new WebhookTargetRefusedError(`webhook host ${host} is not a public address`);
}

/**
 * The socket `lookup` of a webhook request: resolves every address of the host and refuses them
 * all if any is not public (mode `public-https`); otherwise hands them to the connect as asked.
 */
export function guardedLookup(mode: WebhookTargetMode): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as LookupOneOptions), all: true } as LookupAllOptions, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = mode === 'public-https' ? addresses.find((a) => !isPublicAddress(a.address)) : undefined;
      if (refused) return callback(new WebhookTargetRefusedError(`webhook host ${hostname} resolves to ${refused.address}, which is not a public address`), '', 0);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`webhook host ${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}
