/** See endpoint-cache.mjs: `@aws-sdk/endpoint-cache`'s EndpointCache, as the function bundles carry it. */
export { EndpointCache } from '@aws-sdk/endpoint-cache';
