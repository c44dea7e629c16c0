/**
 * The security headers of the console's pages: the one source of their values for CloudFront's
 * response headers policy on AWS (lib/constructs/herald-console.ts) and for the local stack's
 * console (local/console-site.ts), so that the page is tried locally under the policy it meets on
 * AWS and the two cannot drift apart. Plain data: the local stack runs without aws-cdk-lib.
 */

/** Seconds in the year HSTS tells a browser to keep to HTTPS. */
const oneYearSeconds = 365 * 24 * 60 * 60;

/**
 * The Content-Security-Policy of the console: scripts, styles, images and calls from the console's
 * own origin only (the API is on it: CloudFront forwards `/v1/*`, the local gateway serves both),
 * plus the WebSocket API at `webSocketUrl` (a CDK token on AWS, `ws://127.0.0.1:3001` locally);
 * no plugins, no `<base>`, never framed.
 */
export function consoleContentSecurityPolicy(webSocketUrl: string): string {
  return `default-src 'self'; connect-src 'self' ${webSocketUrl}; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`;
}

/** The other security headers' values, as CloudFront's `SecurityHeadersConfig` names them. */
export const consoleSecurityHeaders = {
  /** `X-Frame-Options`. */
  frameOption: 'DENY',
  /** `Referrer-Policy`: the console's addresses carry nothing a referrer should leak. */
  referrerPolicy: 'no-referrer',
  /** `Strict-Transport-Security`: a year, subdomains included (AWS only, see {@link consoleResponseHeaders}). */
  strictTransportSecurity: { maxAgeSeconds: oneYearSeconds, includeSubdomains: true },
} as const;

/**
 * The headers of every console response, as HTTP header names and values (what CloudFront adds
 * from the policy). `https: false` (the local stack, plain HTTP) leaves out
 * `Strict-Transport-Security`: browsers ignore it over HTTP (RFC 6797, 8.1), and a browser that
 * ever met it for `localhost` over HTTPS would refuse plain HTTP to every local server for a year.
 */
export function consoleResponseHeaders(webSocketUrl: string, options: { readonly https: boolean }): Record<string, string> {
  const { maxAgeSeconds, includeSubdomains } = consoleSecurityHeaders.strictTransportSecurity;
  return {
    'content-security-policy': consoleContentSecurityPolicy(webSocketUrl),
    'x-content-type-options': 'nosniff',
    'x-frame-options': consoleSecurityHeaders.frameOption,
    'referrer-policy': consoleSecurityHeaders.referrerPolicy,
    ...(options.https ? { 'strict-transport-security': `max-age=${maxAgeSeconds}${includeSubdomains ? '; includeSubDomains' : ''}` } : {}),
  };
}
