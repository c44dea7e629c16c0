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
import type { LookupFunction } from 'node:net';
import { isPublicAddress, WebhookTargetRefusedError } from '../domain/webhook-targets.ts';
import type { WebhookTargetMode } from '../domain/webhook-targets.ts';

export { checkWebhookUrl, isPublicAddress, WebhookTargetRefusedError } from '../domain/webhook-targets.ts';
export type { WebhookTargetMode } from '../domain/webhook-targets.ts';

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
