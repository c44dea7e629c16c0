/**
 * A trailing slash, as an HTTP API treats it: no route may end in `/`, and a request for `/x/`
 * takes the route `/x` with its rawPath kept (the Celery scheduler's clients call `/api/.../`).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../lib/app-description.ts';
import type { HttpRoute } from '../../../lib/app-description.ts';
import { startHttpGateway } from '../../../local/http-gateway.ts';
import type { RunningHttpGateway } from '../../../local/http-gateway.ts';

const routes: readonly HttpRoute[] = [
  { method: 'POST', path: '/api/things/schedule', auth: 'none' },
  { method: 'GET', path: '/api/things/{id}/status', auth: 'none' },
  { method: 'GET', path: '/api/things/{id}', auth: 'none' },
];

let gateway: RunningHttpGateway;
let events: APIGatewayProxyEventV2[];

beforeAll(async () => {
  gateway = await startHttpGateway({
    port: 0,
    routes,
    jwt: { issuer: 'https://herald.test', audience: 'herald-test', jwks: { keys: [] } },
    invoke: async (event) => {
      events.push(event);
      return { statusCode: 200, body: 'ok' };
    },
  });
});

afterAll(async () => {
  await gateway.stop();
});

beforeEach(() => {
  events = [];
});

describe('a trailing slash at the HTTP API gateway', () => {
  it('takes the route without the slash and keeps the slash in rawPath', async () => {
    // Act
    const response = await fetch(`${gateway.url}/api/things/schedule/`, { method: 'POST' });

    // Assess
    expect(response.status).toBe(200);
    expect(events[0]).toMatchObject({ routeKey: 'POST /api/things/schedule', rawPath: '/api/things/schedule/' });
  });

  it('names the path parameter of a route reached with a trailing slash', async () => {
    // Act
    const response = await fetch(`${gateway.url}/api/things/42/status/`);

    // Assess
    expect(response.status).toBe(200);
    expect(events[0]).toMatchObject({ routeKey: 'GET /api/things/{id}/status', pathParameters: { id: '42' } });
  });

  it('never fills a path parameter with the empty string', async () => {
    // Act
    const response = await fetch(`${gateway.url}/api/things/`);

    // Assess
    expect(response.status).toBe(404);
    expect(events).toHaveLength(0);
  });

  it('still tells routes apart without a trailing slash', async () => {
    // Act
    const response = await fetch(`${gateway.url}/api/things/7`);

    // Assess
    expect(response.status).toBe(200);
    expect(events[0]).toMatchObject({ routeKey: 'GET /api/things/{id}', rawPath: '/api/things/7' });
  });
});

describe('the routes of the app description', () => {
  it('declare no path ending in a slash, which an HTTP API cannot deploy', () => {
    // Act
    const slashed = httpRoutes.filter((route) => route.path !== '/' && route.path.endsWith('/'));

    // Assess
    expect(slashed).toEqual([]);
  });
});
