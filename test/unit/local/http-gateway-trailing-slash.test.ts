/**
 * A trailing slash, as an HTTP API treats it: no route may end in `/`, and a request for `/x/`
 * takes the route `/x` with its rawPath kept. Herald does not rely on the latter (undocumented):
 * the Celery scheduler's routes, which its clients call with the slash, are declared with it and
 * deployed on greedy routes (lib/http-gateway-routes.ts), locally as on AWS.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpRoutes } from '../../../lib/app-description.ts';
import type { HttpRoute } from '../../../lib/app-description.ts';
import { declaredRouteOf, gatewayRoutes } from '../../../lib/http-gateway-routes.ts';
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
  it('declare the Celery scheduler routes as their clients call them, trailing slash included', () => {
    // Act
    const celery = httpRoutes.filter((route) => route.path.startsWith('/api/notifications'));

    // Assess
    expect(celery.map((route) => `${route.method} ${route.path}`).sort()).toEqual([
      'DELETE /api/notifications/{id}/cancel_scheduled/',
      'GET /api/notifications/{id}/schedule_status/',
      'POST /api/notifications/schedule/',
    ]);
  });

  it('are deployed with no route ending in a slash, which an HTTP API cannot deploy', () => {
    // Act
    const slashed = gatewayRoutes(httpRoutes).filter((route) => route.path !== '/' && route.path.endsWith('/'));

    // Assess
    expect(slashed).toEqual([]);
  });

  it('cannot be given to the gateway undeployed, as API Gateway refuses a route ending in a slash', async () => {
    // Act
    const starting = startHttpGateway({
      port: 0,
      routes: [{ method: 'POST', path: '/api/things/schedule/', auth: 'none' }],
      jwt: { issuer: 'https://herald.test', audience: 'herald-test', jwks: { keys: [] } },
      invoke: async () => ({ statusCode: 200 }),
    });

    // Assess
    await expect(starting).rejects.toThrow(/cannot end in "\/"/);
  });
});

describe('a declared route ending in a slash, on its greedy route', () => {
  const declared: readonly HttpRoute[] = [
    { method: 'POST', path: '/api/things/schedule/', auth: 'jwt' },
    { method: 'GET', path: '/api/things/{id}/status/', auth: 'jwt' },
    { method: 'GET', path: '/api/things/{id}/owner/', auth: 'jwt' },
    { method: 'GET', path: '/api/things/{id}', auth: 'none' },
  ];
  let greedy: RunningHttpGateway;
  let seen: APIGatewayProxyEventV2[];

  beforeAll(async () => {
    greedy = await startHttpGateway({
      port: 0,
      // Public here, so that the test needs no token: the route's authorizer is the declared one's.
      routes: gatewayRoutes(declared).map((route) => ({ ...route, auth: 'none' as const })),
      jwt: { issuer: 'https://herald.test', audience: 'herald-test', jwks: { keys: [] } },
      invoke: async (event) => {
        seen.push(event);
        return { statusCode: 200, body: 'ok' };
      },
    });
  });

  afterAll(async () => {
    await greedy.stop();
  });

  beforeEach(() => {
    seen = [];
  });

  it.each([
    ['POST', '/api/things/schedule/', 'POST /api/things/schedule/', {}],
    ['GET', '/api/things/42/status/', 'GET /api/things/{id}/status/', { id: '42' }],
    ['GET', '/api/things/42/owner/', 'GET /api/things/{id}/owner/', { id: '42' }],
    ['GET', '/api/things/42/status', 'GET /api/things/{id}/status/', { id: '42' }],
  ])('reaches the api function for %s %s, which names it %s', async (method, path, routeKey, pathParameters) => {
    // Act
    const response = await fetch(`${greedy.url}${path}`, { method });
    const [event] = seen;

    // Assess
    expect(response.status).toBe(200);
    expect(event && declaredRouteOf(gatewayRoutes(declared), event)).toMatchObject({ routeKey, pathParameters });
  });

  it('leaves a full match to its own route', async () => {
    // Act
    await fetch(`${greedy.url}/api/things/42`);
    const [event] = seen;

    // Assess
    expect(event?.routeKey).toBe('GET /api/things/{id}');
    expect(event && declaredRouteOf(gatewayRoutes(declared), event)).toMatchObject({ routeKey: 'GET /api/things/{id}', pathParameters: { id: '42' } });
  });

  it('names no declared route for another path its greedy route catches', async () => {
    // Act
    await fetch(`${greedy.url}/api/things/42/status/extra/`);
    const [event] = seen;

    // Assess
    expect(event?.routeKey).toBe('GET /api/things/{proxy+}');
    expect(event && declaredRouteOf(gatewayRoutes(declared), event)).toBeUndefined();
  });
});
