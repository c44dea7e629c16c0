/**
 * A function as it is deployed: bundled by HeraldFunction (esbuild, the CDK's own local bundling),
 * then run alone, with nothing but Lambda's environment: no node_modules to fall back on, so a
 * module the bundle left out (the credential providers only a developer machine uses) would fail
 * the invocation if it were ever needed.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heraldNodeOptions, unreachedCredentialProviders, unreachedSdkModules } from '../../lib/constructs/herald-function.ts';
import { bundleFunctions, packageModules } from '../../scripts/bench/bundles.ts';

/** Runs `handler(event)` of the bundle in a fresh Node process with `env` only; resolves with its stdout. */
function invokeAlone(bundle: string, event: unknown, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = [
    `const { handler } = await import(${JSON.stringify(`file://${bundle}`)});`,
    "const context = { functionName: 'herald-ws-default', awsRequestId: 'request-1', getRemainingTimeInMillis: () => 10_000 };",
    `const result = await handler(${JSON.stringify(event)}, context);`,
    'process.stdout.write(JSON.stringify(result));',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Bundles the function `name` and copies its package (index.mjs and its chunks) outside the
 * repository, into a new scratch folder: nothing the bundle imports can be found in a node_modules.
 */
async function deployedPackage(name: string): Promise<{ scratch: string; bundle: string }> {
  const scratch = await mkdtemp(join(tmpdir(), `herald-bundling-${name}-`));
  const [built] = bundleFunctions(join(scratch, 'cdk.out'), [name]);
  if (!built) throw new Error(`${name} was not bundled`);
  await cp(dirname(built.file), join(scratch, 'package'), { recursive: true });
  return { scratch, bundle: join(scratch, 'package', 'index.mjs') };
}

describe('a deployed function bundle', () => {
  let scratch: string;
  let bundle: string;

  beforeAll(async () => {
    ({ scratch, bundle } = await deployedPackage('ws-default'));
  }, 120_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('signs its AWS calls with the credentials Lambda puts in its environment, without the providers it leaves out', async () => {
    // Prepare: the Management API, as a server that notes who signed each request.
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // Act: a `ping` on the `$default` route, which answers `pong` on the connection.
      const result = await invokeAlone(
        bundle,
        { requestContext: { connectionId: 'conn-1', routeKey: '$default' }, body: JSON.stringify({ action: 'ping' }) },
        {
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'ASIAHERALDTEST',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session',
          AWS_LAMBDA_FUNCTION_NAME: 'herald-ws-default',
          HERALD_WS_CALLBACK_URL: `http://127.0.0.1:${port}/local`,
          NODE_OPTIONS: heraldNodeOptions,
        },
      );

      // Assess: the invocation succeeded, its one call signed with the environment's key.
      expect(result.stderr).not.toContain('Cannot find');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ statusCode: 200 });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toContain('Credential=ASIAHERALDTEST/');
      expect(seen[0]?.['x-amz-security-token']).toBe('session');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  /** The package's modules, one text. */
  const packageCode = async (): Promise<string> => (await Promise.all(packageModules(bundle).map((module) => readFile(module, 'utf8')))).join('\n');

  it('leaves the credential providers only a developer machine uses out, imported only when reached', async () => {
    const code = await packageCode();
    for (const provider of unreachedCredentialProviders) {
      expect(code).toContain(`import("${provider}")`);
    }
    // What they would have carried: the SSO and STS clients.
    expect(code).not.toContain('GetRoleCredentials');
    expect(code).not.toContain('AssumeRoleWithWebIdentity');
  });

  it("leaves the SDK's event-stream codec out, imported only if an operation with an event stream were called", async () => {
    const code = await packageCode();
    for (const module of unreachedSdkModules) expect(code).toContain(`import("${module}")`);
    // One of the codec's own error messages.
    expect(code).not.toContain('Provided message too short to accommodate event stream message overhead');
  });

  it('takes node:http without its ES module facade, so a cold start does not load undici', async () => {
    const code = await packageCode();
    expect(code).not.toMatch(/from\s*"(node:)?http"|import\("(node:)?http"\)/);
    // Loaded alone, as Lambda loads it: which of Node's internal modules did the import pull in?
    const loaded = await new Promise<string>((resolve, reject) => {
      const script = `await import(${JSON.stringify(`file://${bundle}`)}); process.stdout.write(JSON.stringify(process.moduleLoadList));`;
      const child = spawn(process.execPath, ['--input-type=module', '--eval', script], { env: { AWS_REGION: 'eu-west-1', NODE_OPTIONS: heraldNodeOptions }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const modules = JSON.parse(loaded) as string[];
    // node:http itself is loaded (the SDK's request handler and the instance-metadata provider use it).
    expect(modules).toContain('NativeModule _http_client');
    expect(modules.filter((name) => name.includes('undici'))).toEqual([]);
  });
});

describe("the api function's package", () => {
  let scratch: string;
  let bundle: string;

  beforeAll(async () => {
    ({ scratch, bundle } = await deployedPackage('api'));
  }, 120_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  /** An HTTP API (payload 2.0) request of a signed-in admin of tenant `acme`. */
  const request = (routeKey: string, body: string): unknown => {
    const [method = '', path = ''] = routeKey.split(' ');
    return {
      version: '2.0',
      routeKey,
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method, path }, requestId: 'request-1', authorizer: { jwt: { claims: { sub: 'ops', tenant: 'acme', role: 'admin' } } } },
      body,
      isBase64Encoded: false,
    };
  };

  it("loads a route group's chunk from the package on the route's first request, alone in Lambda's environment", async () => {
    // Act: a create with a body that is not JSON, refused by the notifications route itself.
    const result = await invokeAlone(bundle, request('POST /v1/notifications', '{'), {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'ASIAHERALDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_LAMBDA_FUNCTION_NAME: 'herald-api',
      // The tenant quota is off: nothing is counted, no table is asked.
      HERALD_TENANT_REQUESTS_PER_SECOND: '0',
      NODE_OPTIONS: heraldNodeOptions,
    });

    // Assess: the route's own 400, not a 500 of a chunk that could not be imported.
    expect(result.stderr).not.toContain('Cannot find');
    expect(result.code).toBe(0);
    // The function's log lines come first (Powertools writes to stdout), the result last.
    const answer = JSON.parse(result.stdout.slice(result.stdout.lastIndexOf('\n') + 1)) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('body must be valid JSON') } });
  });
});
