import { describe, expect, it } from 'vitest';
import { functions, httpRoutes } from '../../../lib/app-description.ts';
import { routeLoaders } from '../../../functions/api/routes.ts';

describe('the api route table', () => {
  it('serves exactly the HTTP routes of the app description', () => {
    // Prepare
    const described = httpRoutes.map((route) => `${route.method} ${route.path}`);

    // Act
    const served = Object.keys(routeLoaders);

    // Assess
    expect(served.sort()).toEqual(described.sort());
  });

  it('is the function the app description gives those routes to', () => {
    // Prepare
    const api = functions.find((f) => f.entry === 'functions/api/handler.ts');

    // Act
    const routes = api?.triggers.flatMap((trigger) => (trigger.kind === 'http' ? trigger.routes : []));

    // Assess
    expect(routes).toEqual(httpRoutes);
  });

  it('loads a handler for every route, the same one each time', async () => {
    // Act
    const loaded = await Promise.all(Object.values(routeLoaders).map(async (load) => [await load(), await load()] as const));

    // Assess
    for (const [first, again] of loaded) {
      expect(first).toBeTypeOf('function');
      expect(again).toBe(first);
    }
  });
});
