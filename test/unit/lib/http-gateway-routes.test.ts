import { describe, expect, it } from 'vitest';
import type { HttpRoute } from '../../../lib/app-description.ts';
import { declaredRouteOf, gatewayRoutes } from '../../../lib/http-gateway-routes.ts';

const routes: readonly HttpRoute[] = [
  { method: 'GET', path: '/health', auth: 'none' },
  { method: 'GET', path: '/v1/things/{id}', auth: 'jwt' },
  { method: 'POST', path: '/api/things/schedule/', auth: 'jwt' },
  { method: 'DELETE', path: '/api/things/{id}/cancel/', auth: 'jwt' },
  { method: 'POST', path: '/api/things/{id}/retry/', auth: 'jwt' },
];

describe('deploying the described routes', () => {
  it('keeps a route whose path does not end in a slash as it is', () => {
    // Act
    const deployed = gatewayRoutes(routes);

    // Assess
    expect(deployed).toContainEqual({ method: 'GET', path: '/v1/things/{id}', auth: 'jwt', serves: [routes[1]] });
    expect(deployed).toContainEqual({ method: 'GET', path: '/health', auth: 'none', serves: [routes[0]] });
  });

  it('deploys paths ending in a slash on one greedy route per method under their static prefix, with their authorizer', () => {
    // Act
    const deployed = gatewayRoutes(routes).filter((route) => route.path.endsWith('{proxy+}'));

    // Assess
    expect(deployed).toEqual([
      { method: 'POST', path: '/api/things/{proxy+}', auth: 'jwt', serves: [routes[2], routes[4]] },
      { method: 'DELETE', path: '/api/things/{proxy+}', auth: 'jwt', serves: [routes[3]] },
    ]);
  });

  it('refuses two declared routes that would share a greedy route but not its authorizer', () => {
    // Prepare
    const mixed: HttpRoute[] = [
      { method: 'GET', path: '/api/a/', auth: 'jwt' },
      { method: 'GET', path: '/api/b/', auth: 'none' },
    ];

    // Act
    const deploying = (): unknown => gatewayRoutes(mixed);

    // Assess
    expect(deploying).toThrow(/share the route GET \/api\/\{proxy\+\} but not its authorizer/);
  });

  it('refuses a declared route whose greedy route another declared route already is', () => {
    // Prepare
    const clash: HttpRoute[] = [
      { method: 'GET', path: '/api/{proxy+}', auth: 'jwt' },
      { method: 'GET', path: '/api/a/', auth: 'jwt' },
    ];

    // Act
    const deploying = (): unknown => gatewayRoutes(clash);

    // Assess
    expect(deploying).toThrow(/deployed as the one route GET \/api\/\{proxy\+\}/);
  });
});

describe('naming the declared route a request reached', () => {
  const deployed = gatewayRoutes(routes);

  it('names a route deployed as it is by its own route key and parameters', () => {
    // Act
    const found = declaredRouteOf(deployed, { routeKey: 'GET /v1/things/{id}', pathParameters: { id: 't1' } });

    // Assess
    expect(found).toEqual({ route: routes[1], routeKey: 'GET /v1/things/{id}', pathParameters: { id: 't1' } });
  });

  it.each([
    ['schedule/', 'POST /api/things/schedule/', {}],
    ['t1/retry/', 'POST /api/things/{id}/retry/', { id: 't1' }],
    // A client that drops the slash still reaches the route (and so does a gateway that strips it).
    ['t1/retry', 'POST /api/things/{id}/retry/', { id: 't1' }],
  ])('names the greedy route with %j as %s', (proxy, routeKey, pathParameters) => {
    // Act
    const found = declaredRouteOf(deployed, { routeKey: 'POST /api/things/{proxy+}', pathParameters: { proxy } });

    // Assess
    expect(found).toMatchObject({ routeKey, pathParameters });
  });

  it.each(['t1/retry/again/', 'schedules/', 't1/cancel/', ''])('names nothing for the greedy route with %j', (proxy) => {
    // Act
    const found = declaredRouteOf(deployed, { routeKey: 'POST /api/things/{proxy+}', pathParameters: { proxy } });

    // Assess
    expect(found).toBeUndefined();
  });

  it('names nothing for a route key that is not deployed', () => {
    // Act
    const found = declaredRouteOf(deployed, { routeKey: 'POST /api/things/schedule/' });

    // Assess
    expect(found).toBeUndefined();
  });
});
