/**
 * How the described HTTP routes become API Gateway routes, and how a request that reached one
 * is named back as the described route it is. Pure: the CDK's HTTP API, the local gateway and the
 * `api` function all read this one mapping.
 *
 * A route is declared exactly as its clients call it: the Celery scheduler's clients call
 * `/api/notifications/schedule/`, trailing slash included. An HTTP API route key cannot end in
 * `/` (the CDK refuses it, as API Gateway does), and how API Gateway treats `/x/` sent to a route
 * `/x` (does it match, are the JWT authorizer's claims passed) is not documented. So such a route
 * is deployed on what the documentation does promise ("Create routes for HTTP APIs in API
 * Gateway": a greedy path variable catches all child resources of a route; a route that is not a
 * full match is chosen by its greedy variable before `$default`): `METHOD <prefix>/{proxy+}`,
 * where `<prefix>` is the path up to its first `{param}` or its last segment, behind the
 * authorizer of the declared route. The `api` function then names the declared route from that
 * prefix and the greedy variable, and answers 404 for any other path the greedy route caught.
 */
import type { HttpMethod, HttpRoute } from './app-description.ts';

/** An API Gateway route, and the described routes it serves. */
export interface GatewayRoute {
  readonly method: HttpMethod;
  /** The route's path, as the route key holds it (no trailing slash). */
  readonly path: string;
  readonly auth: HttpRoute['auth'];
  /** The described routes this route carries: the route itself, or those a greedy route stands for. */
  readonly serves: readonly HttpRoute[];
}

/** The greedy path variable of a route that stands for declared paths ending in `/`. */
export const trailingSlashVariable = 'proxy';

/** True for a described path that ends in `/` (a path other than `/` itself). */
export function endsInSlash(path: string): boolean {
  return path.length > 1 && path.endsWith('/');
}

/** The static part of a path ending in `/` under which its greedy route catches it. */
function greedyPrefix(path: string): string {
  const segments = path.slice(1, -1).split('/');
  const firstParameter = segments.findIndex((segment) => segment.startsWith('{'));
  const kept = firstParameter === -1 ? segments.length - 1 : firstParameter;
  return segments
    .slice(0, kept)
    .map((segment) => `/${segment}`)
    .join('');
}

/**
 * The API Gateway routes of the described ones: a route whose path does not end in `/` as it is;
 * those that do, one greedy route per method and prefix. Throws when two declared routes that
 * share a greedy route ask for different authorizers.
 */
export function gatewayRoutes(routes: readonly HttpRoute[]): GatewayRoute[] {
  const result: GatewayRoute[] = [];
  const greedy = new Map<string, { method: HttpMethod; path: string; auth: HttpRoute['auth']; serves: HttpRoute[] }>();
  for (const route of routes) {
    if (!endsInSlash(route.path)) {
      result.push({ method: route.method, path: route.path, auth: route.auth, serves: [route] });
      continue;
    }
    const path = `${greedyPrefix(route.path)}/{${trailingSlashVariable}+}`;
    const key = `${route.method} ${path}`;
    const shared = greedy.get(key);
    if (!shared) {
      const created = { method: route.method, path, auth: route.auth, serves: [route] };
      greedy.set(key, created);
      result.push(created);
      continue;
    }
    if (shared.auth !== route.auth) {
      throw new Error(`${route.method} ${route.path} and ${shared.serves[0]?.path} share the route ${key} but not its authorizer`);
    }
    shared.serves.push(route);
  }
  const keys = result.map((route) => `${route.method} ${route.path}`);
  const twice = keys.find((key, index) => keys.indexOf(key) !== index);
  if (twice) throw new Error(`Two described routes are deployed as the one route ${twice}`);
  return result;
}

/** The described route a request names, with its path parameters. */
export interface DeclaredRouteMatch {
  readonly route: HttpRoute;
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `path` against a declared path ending in `/` (the slash optional: some clients drop it). */
function matchDeclared(route: HttpRoute, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = route.path
    .slice(1, -1)
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!parameter?.[1]) return escapeRegExp(segment);
      names.push(parameter[1]);
      return '([^/]+)';
    })
    .join('/');
  const found = new RegExp(`^/${pattern}/?$`).exec(path);
  if (!found) return undefined;
  return Object.fromEntries(names.map((name, index) => [name, found[index + 1] ?? '']));
}

/**
 * The described route a request reached, from the route key API Gateway gives it and its path
 * parameters (`deployed`: {@link gatewayRoutes} of the described routes): the same route when the route key is a described one; for a greedy route standing
 * for paths ending in `/`, the declared route its prefix and greedy variable spell (the prefix is
 * the route's, the variable the rest of the path, already decoded), or undefined when none does.
 */
export function declaredRouteOf(
  deployed: readonly GatewayRoute[],
  request: { readonly routeKey: string; readonly pathParameters?: Readonly<Record<string, string | undefined>> },
): DeclaredRouteMatch | undefined {
  const gateway = deployed.find((route) => `${route.method} ${route.path}` === request.routeKey);
  if (!gateway) return undefined;
  const [first] = gateway.serves;
  const parameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.pathParameters ?? {})) if (value !== undefined) parameters[name] = value;
  if (first && !endsInSlash(first.path)) return { route: first, routeKey: request.routeKey, pathParameters: parameters };
  const rest = parameters[trailingSlashVariable];
  if (rest === undefined) return undefined;
  const path = `${gateway.path.slice(0, -`/{${trailingSlashVariable}+}`.length)}/${rest}`;
  for (const route of gateway.serves) {
    const pathParameters = matchDeclared(route, path);
    if (pathParameters) return { route, routeKey: `${route.method} ${route.path}`, pathParameters };
  }
  return undefined;
}
