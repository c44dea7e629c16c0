import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiCallCounter } from '../../../local/api-call-counter.ts';
import { createControlApi } from '../../../local/control-api.ts';
import type { ControlApiOptions, RuleRunner } from '../../../local/control-api.ts';
import { createFaultInjector } from '../../../local/fault-rules.ts';
import type { FaultRule } from '../../../local/fault-rules.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, publicJwks, signToken } from '../../../local/jwt-keys.ts';
import { defaultLocalPageSize, maxLocalPageSize } from '../../../local/newest-first-page.ts';
import { Outbox } from '../../../local/outbox.ts';
import type { SentMail } from '../../../local/control-api.ts';
import { SesMailbox } from '../../../local/ses-mailbox.ts';
import type { StoredEmail } from '../../../local/ses-mailbox.ts';
import type { LocalEndpoints } from '../../../local/stack.ts';

const endpoints: LocalEndpoints = {
  dynamodb: 'http://127.0.0.1:1001',
  sqs: 'http://127.0.0.1:1002',
  ses: 'http://127.0.0.1:1003',
  scheduler: 'http://127.0.0.1:1004',
  apigatewaymanagementapi: 'http://127.0.0.1:1005',
  sns: 'http://127.0.0.1:1006',
  secretsmanager: 'http://127.0.0.1:1007',
  push: 'http://127.0.0.1:1008',
  telegram: 'http://127.0.0.1:1009',
};
const faultable: LocalEndpoints = { ...endpoints, dynamodb: 'http://127.0.0.1:2001', ses: 'http://127.0.0.1:2003' };
const sesRule: FaultRule = { service: 'ses', operation: 'SendEmail', probability: 1, error: { statusCode: 503, code: 'ServiceUnavailable' } };

/** A rule set of fakes: each rule returns (or throws) what the test says, and records its runs. */
function fakeRules(targets: Record<string, () => Promise<unknown>>): RuleRunner & { runs: string[] } {
  const runs: string[] = [];
  return {
    names: Object.keys(targets),
    runs,
    run: (name) => {
      runs.push(name);
      const target = targets[name];
      return target ? target() : Promise.reject(new Error(`not a fake rule: ${name}`));
    },
  };
}

/** A mail as aws-ses-v2-local stores it (`at` in epoch seconds). */
function stored(messageId: string, atMs: number, fields: { from?: string; to?: string[]; subject?: string; text?: string } = {}): StoredEmail {
  return {
    messageId,
    from: fields.from ?? 'a@example.com',
    replyTo: [],
    destination: { to: fields.to ?? ['b@example.com'], cc: [], bcc: [] },
    subject: fields.subject ?? 's',
    body: fields.text !== undefined ? { text: fields.text } : {},
    attachments: [],
    at: atMs / 1000,
  };
}

describe('local control API', () => {
  let server: Server | undefined;

  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  /** Serves the control API, and a 418 for every path it leaves alone. */
  async function serve(overrides: Partial<ControlApiOptions> = {}): Promise<(method: string, path: string, body?: string, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; body: unknown }>> {
    const api = createControlApi({
      faults: createFaultInjector(),
      calls: new ApiCallCounter(),
      endpoints: () => ({ raw: endpoints, faultable }),
      rules: () => fakeRules({}),
      ...overrides,
    });
    server = createServer((req, res) => {
      void api(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return async (method, path, body, headers) => {
      const response = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
  }

  describe('requests from the page of another origin', () => {
    it('changes nothing for a cross-site page\'s simple POST, and still answers its reads', async () => {
      // Prepare: what a page of attacker.example can send without asking first
      const rules = fakeRules({ cleanup: async () => ({ deleted: 0 }) });
      const faults = createFaultInjector();
      const call = await serve({ rules: () => rules, faults });
      const fromAttacker = { origin: 'https://attacker.example', 'content-type': 'text/plain' };

      // Act
      const run = await call('POST', '/_local/rules/cleanup/run', undefined, fromAttacker);
      const replace = await call('POST', '/_local/faults', JSON.stringify([sesRule]), fromAttacker);
      const sandboxed = await call('POST', '/_local/faults', JSON.stringify([sesRule]), { ...fromAttacker, origin: 'null' });
      const read = await call('GET', '/_local/faults', undefined, fromAttacker);

      // Assess
      for (const refused of [run, replace, sandboxed]) expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      expect(rules.runs).toEqual([]);
      expect(faults.rules()).toEqual([]);
      expect(read.status).toBe(200);
    });

    it('serves a change from its own origin (the console) and from clients that name none', async () => {
      // Prepare
      const rules = fakeRules({ cleanup: async () => ({ deleted: 0 }) });
      const call = await serve({ rules: () => rules });
      const own = `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;

      // Act
      const fromConsole = await call('POST', '/_local/rules/cleanup/run', undefined, { origin: own });
      const fromCurl = await call('POST', '/_local/rules/cleanup/run');

      // Assess
      expect([fromConsole.status, fromCurl.status]).toEqual([200, 200]);
      expect(rules.runs).toEqual(['cleanup', 'cleanup']);
    });
  });

  describe('rules', () => {
    it('runs a rule now and answers the result of its target', async () => {
      // Prepare
      const rules = fakeRules({ 'stuck-retry': async () => ({ retried: 3, timestamp: '2024-06-01T00:00:00.000Z' }) });
      const call = await serve({ rules: () => rules });

      // Act
      const response = await call('POST', '/_local/rules/stuck-retry/run');

      // Assess
      expect(response).toMatchObject({ status: 200, body: { retried: 3, timestamp: '2024-06-01T00:00:00.000Z' } });
      expect(rules.runs).toEqual(['stuck-retry']);
    });

    it('answers null for a target that returns nothing', async () => {
      // Prepare
      const call = await serve({ rules: () => fakeRules({ cleanup: async () => undefined }) });

      // Act
      const response = await call('POST', '/_local/rules/cleanup/run');

      // Assess
      expect(response.status).toBe(200);
      expect(response.body).toBeNull();
    });

    it('answers 404 naming the unknown rule and the known ones, and runs nothing', async () => {
      // Prepare
      const rules = fakeRules({ cleanup: async () => ({ deleted: 0 }) });
      const call = await serve({ rules: () => rules });

      // Act
      const response = await call('POST', '/_local/rules/clean-up/run');

      // Assess
      expect(response).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'No rule named clean-up (rules: cleanup)' } } });
      expect(rules.runs).toEqual([]);
    });

    it('answers 500 with the reason when the target throws', async () => {
      // Prepare
      const call = await serve({ rules: () => fakeRules({ cleanup: () => Promise.reject(new Error('table missing')) }) });

      // Act
      const response = await call('POST', '/_local/rules/cleanup/run');

      // Assess
      expect(response).toMatchObject({ status: 500, body: { error: { code: 'RULE_FAILED', message: 'Rule cleanup failed: table missing' } } });
    });

    it('answers 503 while the functions are not loaded yet', async () => {
      // Prepare
      const call = await serve({ rules: () => undefined });

      // Act
      const response = await call('POST', '/_local/rules/cleanup/run');

      // Assess
      expect(response).toMatchObject({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } } });
    });

    it('answers 405 with Allow to another method', async () => {
      // Prepare
      const call = await serve({ rules: () => fakeRules({ cleanup: async () => null }) });

      // Act
      const response = await call('DELETE', '/_local/rules/cleanup/run');

      // Assess
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });

  describe('faults', () => {
    it('replaces, reads and clears the rule set', async () => {
      // Prepare
      const faults = createFaultInjector({ rules: [sesRule] });
      const call = await serve({ faults });
      const replacement: FaultRule[] = [
        { service: 'dynamodb', operation: 'PutItem', probability: 0.25, error: { statusCode: 400, code: 'ProvisionedThroughputExceededException' } },
        { service: 'sqs', probability: 0.1, error: { statusCode: 500, code: 'InternalError', message: 'Try again' } },
      ];
      faults.decide('ses', 'SendEmail');

      // Act
      const before = await call('GET', '/_local/faults');
      const posted = await call('POST', '/_local/faults', JSON.stringify(replacement));
      const read = await call('GET', '/_local/faults');
      const cleared = await call('DELETE', '/_local/faults');

      // Assess
      expect(before.body).toEqual({ rules: [sesRule], injected: { ses: { SendEmail: 1 } } });
      expect(posted).toMatchObject({ status: 200, body: { rules: replacement } });
      expect(read.body).toEqual({ rules: replacement, injected: { ses: { SendEmail: 1 } } });
      expect(cleared).toMatchObject({ status: 200, body: { rules: [], injected: { ses: { SendEmail: 1 } } } });
      expect(faults.rules()).toEqual([]);
    });

    it.each([
      ['an unknown service', [{ ...sesRule, service: 'pigeon' }], '0.service'],
      ['a probability above 1', [{ ...sesRule, probability: 1.01 }], '0.probability'],
      ['a negative probability', [{ ...sesRule, probability: -0.1 }], '0.probability'],
      ['a status below 400', [{ ...sesRule, error: { statusCode: 200, code: 'Ok' } }], '0.error.statusCode'],
      ['an error without a code', [{ ...sesRule, error: { statusCode: 503 } }], '0.error.code'],
      ['an operation the service does not have', [sesRule, { ...sesRule, operation: 'PutItem' }], '1.operation'],
      ['an unknown field', [{ ...sesRule, propability: 0.5 }], '0.propability'],
      ['an object instead of an array', sesRule, 'fault rules'],
    ])('refuses %s with a 400 naming the field and keeps the rules', async (_case, body, field) => {
      // Prepare
      const faults = createFaultInjector({ rules: [sesRule] });
      const call = await serve({ faults });

      // Act
      const response = await call('POST', '/_local/faults', JSON.stringify(body));

      // Assess
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: expect.arrayContaining([expect.objectContaining({ field })]) } });
      expect(faults.rules()).toEqual([sesRule]);
    });

    it('refuses an empty body', async () => {
      // Prepare
      const call = await serve();

      // Act
      const response = await call('POST', '/_local/faults', '');

      // Assess
      expect(response).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR' } } });
    });
  });

  describe('calls', () => {
    it('answers the calls counted so far by service and operation, with their total', async () => {
      // Prepare
      const calls = new ApiCallCounter();
      const call = await serve({ calls });
      calls.count('dynamodb', 'UpdateItem');
      calls.count('dynamodb', 'UpdateItem');
      calls.count('dynamodb', 'Query');
      calls.count('sqs', 'SendMessageBatch');

      // Act
      const response = await call('GET', '/_local/calls');

      // Assess
      expect(response).toMatchObject({
        status: 200,
        body: { calls: { dynamodb: { UpdateItem: 2, Query: 1 }, sqs: { SendMessageBatch: 1 } }, total: 4 },
      });
    });

    it('starts counting from zero on DELETE and answers the emptied counts', async () => {
      // Prepare
      const calls = new ApiCallCounter();
      const call = await serve({ calls });
      calls.count('ses', 'SendEmail');

      // Act
      const deleted = await call('DELETE', '/_local/calls');
      calls.count('dynamodb', 'GetItem');
      const after = await call('GET', '/_local/calls');

      // Assess
      expect(deleted).toMatchObject({ status: 200, body: { calls: {}, byFunction: {}, total: 0 } });
      expect(after.body).toEqual({ calls: { dynamodb: { GetItem: 1 } }, byFunction: { unknown: { dynamodb: { GetItem: 1 } } }, total: 1 });
    });

    it('answers the same calls by the function that signed them, strangers and unsigned calls under unknown', async () => {
      // Prepare
      const calls = new ApiCallCounter((accessKeyId) => ({ 'herald-local-deliver': 'deliver', 'herald-local-api': 'api' })[accessKeyId]);
      const call = await serve({ calls });
      calls.count('dynamodb', 'TransactWriteItems', 'herald-local-deliver');
      calls.count('dynamodb', 'TransactWriteItems', 'herald-local-deliver');
      calls.count('ses', 'SendEmail', 'herald-local-deliver');
      calls.count('dynamodb', 'PutItem', 'herald-local-api');
      calls.count('dynamodb', 'PutItem', 'someone-else');
      calls.count('sqs', 'SendMessage');

      // Act
      const response = await call('GET', '/_local/calls');

      // Assess
      expect(response.body).toEqual({
        calls: { dynamodb: { TransactWriteItems: 2, PutItem: 2 }, ses: { SendEmail: 1 }, sqs: { SendMessage: 1 } },
        byFunction: {
          deliver: { dynamodb: { TransactWriteItems: 2 }, ses: { SendEmail: 1 } },
          api: { dynamodb: { PutItem: 1 } },
          unknown: { dynamodb: { PutItem: 1 }, sqs: { SendMessage: 1 } },
        },
        total: 6,
      });
    });

    it('answers the DynamoDB entries written since start-up, or since the last DELETE, when the stack counts them', async () => {
      // Prepare: 3 items and 5 index entries written before the API was made (start-up, tables).
      let writes = { tableItems: 3, indexEntries: 5 };
      const call = await serve({ dynamodbWrites: () => writes });

      // Act
      writes = { tableItems: 10, indexEntries: 16 };
      const counted = await call('GET', '/_local/calls');
      const deleted = await call('DELETE', '/_local/calls');
      writes = { tableItems: 12, indexEntries: 19 };
      const after = await call('GET', '/_local/calls');

      // Assess
      expect(counted.body).toMatchObject({ dynamodbWrites: { tableItems: 7, indexEntries: 11 } });
      expect(deleted.body).toMatchObject({ dynamodbWrites: { tableItems: 0, indexEntries: 0 } });
      expect(after.body).toMatchObject({ dynamodbWrites: { tableItems: 2, indexEntries: 3 } });
    });

    it('answers 405 with Allow to a POST', async () => {
      // Prepare
      const calls = new ApiCallCounter();
      calls.count('ses', 'SendEmail');
      const call = await serve({ calls });

      // Act
      const response = await call('POST', '/_local/calls', '{}');

      // Assess
      expect(response).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
      expect(response.headers.get('allow')).toBe('GET, DELETE');
      expect(calls.snapshot()).toEqual({ ses: { SendEmail: 1 } });
    });
  });

  describe('ses', () => {
    it('answers the SES quotas and the accepted sends, each with its millisecond', async () => {
      // Prepare
      const view = {
        quota: { maxSendRate: 2, max24HourSend: 100, sentLast24Hours: 1 },
        sends: [{ operation: 'SendEmail', recipients: 1, at: 1_800_000_000_123, messageId: 'ses-1' }],
      };
      const call = await serve({ ses: () => view });

      // Act
      const response = await call('GET', '/_local/ses');

      // Assess
      expect(response).toMatchObject({ status: 200, body: view });
    });

    it('answers 503 while SES is not started, and 405 with Allow to a DELETE', async () => {
      // Prepare
      const call = await serve({ ses: () => undefined });

      // Act
      const starting = await call('GET', '/_local/ses');
      const deleting = await call('DELETE', '/_local/ses');

      // Assess
      expect(starting).toMatchObject({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } } });
      expect(deleting).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
      expect(deleting.headers.get('allow')).toBe('GET');
    });
  });

  describe('routing', () => {
    it('lists the plain endpoints with the faultable ones under faultable', async () => {
      // Prepare
      const call = await serve();

      // Act
      const response = await call('GET', '/_local/endpoints');

      // Assess
      expect(response).toEqual({ status: 200, headers: expect.any(Headers), body: { ...endpoints, faultable } });
    });

    it('answers 404 for an unknown local path and leaves other paths to the HTTP API', async () => {
      // Prepare
      const call = await serve();

      // Act
      const unknown = await call('GET', '/_local/nothing');
      const product = await call('GET', '/v1/notifications');

      // Assess
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'No local endpoint /_local/nothing' } } });
      expect(product.status).toBe(418);
    });
  });

  describe('dev sign-in', () => {
    it('signs a token for the chosen subject, tenant and roles with the local issuer', async () => {
      // Prepare
      const directory = await mkdtemp(join(tmpdir(), 'herald-dev-sign-in-'));
      const keyFile = join(directory, 'key.json');
      try {
        const call = await serve({
          mintToken: ({ sub, tenant, roles }) => signToken({ sub, tenant, role: roles, issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE }, { keyFile }),
        });

        // Act
        const response = await call('POST', '/_local/token', JSON.stringify({ sub: 'ops', tenant: 'acme', roles: ['admin', 'operator'] }));

        // Assess
        expect(response.status).toBe(200);
        const { token } = response.body as { token: string };
        const { payload } = await jwtVerify(token, createLocalJWKSet(await publicJwks({ keyFile })), { issuer: LOCAL_JWT_ISSUER, audience: LOCAL_JWT_AUDIENCE });
        expect(payload).toMatchObject({ sub: 'ops', tenant: 'acme', role: ['admin', 'operator'] });
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });

    it('refuses an unknown role, an empty subject and a missing body, naming each field, and signs nothing', async () => {
      // Prepare
      const minted: unknown[] = [];
      const call = await serve({ mintToken: async (request) => (minted.push(request), 'never') });

      // Act
      const bad = await call('POST', '/_local/token', JSON.stringify({ sub: '', roles: ['root'] }));
      const empty = await call('POST', '/_local/token');
      const wrongMethod = await call('GET', '/_local/token');

      // Assess
      expect(bad.status).toBe(400);
      const fields = ((bad.body as { error: { details: { field: string }[] } }).error.details ?? []).map((d) => d.field);
      expect(fields).toEqual(expect.arrayContaining(['sub', 'roles.0']));
      expect(empty.status).toBe(400);
      expect(wrongMethod.status).toBe(405);
      expect(minted).toEqual([]);
    });

    it('says a subject left out is required, and names the body when it is missing or not JSON, as the API does', async () => {
      // Prepare
      const call = await serve({ mintToken: async () => 'never' });

      // Act
      const noSubject = await call('POST', '/_local/token', JSON.stringify({ roles: ['admin'] }));
      const empty = await call('POST', '/_local/token');
      const notJson = await call('POST', '/_local/token', '{"sub":');

      // Assess
      expect(noSubject.status).toBe(400);
      expect(noSubject.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', message: 'Invalid sign-in: sub is required', details: [{ field: 'sub', message: 'is required' }] } });
      expect(empty.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field: 'body', message: 'is required' }] } });
      expect(notJson.status).toBe(400);
      expect(notJson.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', message: 'Request body is not valid JSON', details: [{ field: 'body', message: expect.stringMatching(/^must be valid JSON \(.+\)$/) as string }] } });
    });
  });

  describe('sent mail', () => {
    it('answers the mail the local SES accepted, and 503 before SES has started', async () => {
      // Prepare
      const mail = [{ messageId: 'm-1', from: 'herald@example.com', to: ['dave@example.com'], subject: 'Hi', text: 'Hello', at: 1_700_000_000_000 }];
      const started = await serve({ mail: new SesMailbox(() => [stored('m-1', 1_700_000_000_000, { from: 'herald@example.com', to: ['dave@example.com'], subject: 'Hi', text: 'Hello' })]) });

      // Act
      const answered = await started('GET', '/_local/mail');

      // Assess
      expect(answered).toMatchObject({ status: 200, body: { emails: mail } });
      await closeServer(server as Server);
      const starting = await serve();
      expect((await starting('GET', '/_local/mail')).status).toBe(503);
    });

    it('answers one page, newest first, with the total and a cursor that reaches the oldest', async () => {
      // Prepare: the local SES's order (oldest first), whole seconds as it keeps them, so two share one
      const mail = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'].map((messageId, i) => stored(messageId, 1_700_000_000_000 + Math.min(i, 3) * 1000, { subject: messageId }));
      const call = await serve({ mail: new SesMailbox(() => mail) });

      // Act
      const first = await call('GET', '/_local/mail?limit=2');
      const second = await call('GET', `/_local/mail?limit=2&cursor=${String((first.body as { nextCursor: string }).nextCursor)}`);
      const third = await call('GET', `/_local/mail?limit=2&cursor=${String((second.body as { nextCursor: string }).nextCursor)}`);

      // Assess
      const ids = (answer: { body: unknown }): string[] => (answer.body as { emails: SentMail[] }).emails.map((e) => e.messageId);
      expect(first).toMatchObject({ status: 200, body: { total: 5, nextCursor: expect.any(String) } });
      expect([ids(first), ids(second), ids(third)]).toEqual([['m-5', 'm-4'], ['m-3', 'm-2'], ['m-1']]);
      expect(third.body).toMatchObject({ total: 5, nextCursor: null });
    });

    it(`answers ${defaultLocalPageSize} without a limit, at most ${maxLocalPageSize}`, async () => {
      // Prepare
      const mail = Array.from({ length: maxLocalPageSize + 5 }, (_, i) => stored(`m-${i}`, i * 1000));
      const call = await serve({ mail: new SesMailbox(() => mail) });

      // Act
      const unnamed = await call('GET', '/_local/mail');
      const most = await call('GET', `/_local/mail?limit=${maxLocalPageSize}`);

      // Assess
      expect((unnamed.body as { emails: unknown[] }).emails).toHaveLength(defaultLocalPageSize);
      expect((most.body as { emails: unknown[] }).emails).toHaveLength(maxLocalPageSize);
      expect(most.body).toMatchObject({ total: maxLocalPageSize + 5, nextCursor: expect.any(String) });
    });

    it.each([
      ['limit=0', 'limit', 'must be at least 1'],
      ['limit=1001', 'limit', `must be at most ${maxLocalPageSize}`],
      ['limit=ten', 'limit', 'must be a number'],
      ['limit=0x10', 'limit', 'must be a number'],
      ['limit=1e2', 'limit', 'must be a number'],
      ['limit=', 'limit', 'must be a number'],
      ['cursor=nope', 'cursor', expect.stringMatching(/^is not a cursor of this list/)],
      ['since=5', 'since', 'is not a parameter of this endpoint (it takes limit, cursor)'],
    ])('answers 400 naming the parameter for ?%s, before reading the store', async (search, field, message) => {
      // Prepare
      let reads = 0;
      const mailbox = new SesMailbox(() => ((reads += 1), []));
      reads = 0;
      const call = await serve({ mail: mailbox });

      // Act
      const answer = await call('GET', `/_local/mail?${search}`);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', message: expect.stringContaining(field), details: [{ field, message }] } });
      expect(reads).toBe(0);
    });
    it('reads only the page it answers of the local SES\'s store, however much mail it holds', async () => {
      // Prepare: 100,000 mails, behind a view that counts the mails read
      const mail = Array.from({ length: 100_000 }, (_, i) => stored(`m-${i}`, i * 1000));
      let read = 0;
      const counted = new Proxy(mail, {
        get: (target, property, receiver): unknown => {
          if (typeof property === 'string' && /^\d+$/.test(property)) read += 1;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const call = await serve({ mail: new SesMailbox(() => counted) });

      // Act
      const first = await call('GET', '/_local/mail?limit=20');
      const second = await call('GET', `/_local/mail?limit=20&cursor=${String((first.body as { nextCursor: string }).nextCursor)}`);

      // Assess: each page reads its 20 and one look-ahead
      expect((second.body as { emails: SentMail[] }).emails.map((e) => e.messageId)).toEqual(Array.from({ length: 20 }, (_, i) => `m-${99_979 - i}`));
      expect(second.body).toMatchObject({ total: 100_000 });
      expect(read).toBe(2 * 21);
    });

    it('answers 410 naming cursor for a cursor from before the local SES\'s store was cleared, and pages the new mail', async () => {
      // Prepare: the store is cleared as aws-ses-v2-local's /clear-store does it, with a new array
      let mail = [stored('m-1', 1_000), stored('m-2', 2_000), stored('m-3', 3_000)];
      const call = await serve({ mail: new SesMailbox(() => mail) });
      const first = await call('GET', '/_local/mail?limit=1');
      const cursor = String((first.body as { nextCursor: string }).nextCursor);
      mail = [stored('m-4', 4_000), stored('m-5', 5_000)];

      // Act
      const gone = await call('GET', `/_local/mail?limit=1&cursor=${cursor}`);
      const fresh = await call('GET', '/_local/mail?limit=1');
      const next = await call('GET', `/_local/mail?limit=1&cursor=${String((fresh.body as { nextCursor: string }).nextCursor)}`);

      // Assess
      expect(gone).toMatchObject({ status: 410, body: { error: { code: 'CURSOR_GONE', details: [{ field: 'cursor', message: expect.stringContaining('read again from the newest') }] } } });
      expect(fresh.body).toMatchObject({ emails: [{ messageId: 'm-5' }], total: 2 });
      expect(next.body).toMatchObject({ emails: [{ messageId: 'm-4' }], total: 2, nextCursor: null });
    });
  });

  describe('reads of the local stores that find nothing new', () => {
    it('answers the outbox 304 with no body to a read naming the ETag of the same page, until the store changes', async () => {
      // Prepare
      const outbox = new Outbox();
      outbox.record({ channel: 'sms', provider: 'sns', to: '+1', body: {} });
      const call = await serve({ outbox });
      const first = await call('GET', '/_local/outbox?limit=200');
      const etag = first.headers.get('etag') ?? '';

      // Act
      const unchanged = await call('GET', '/_local/outbox?limit=200', undefined, { 'if-none-match': etag });
      const otherPage = await call('GET', '/_local/outbox?limit=200&channel=sms', undefined, { 'if-none-match': etag });
      outbox.record({ channel: 'push', provider: 'web-push', to: 'https://push.example/1', body: {} });
      const recorded = await call('GET', '/_local/outbox?limit=200', undefined, { 'if-none-match': etag });
      outbox.clear();
      const cleared = await call('GET', '/_local/outbox?limit=200', undefined, { 'if-none-match': recorded.headers.get('etag') ?? '' });

      // Assess
      expect(first).toMatchObject({ status: 200, body: { total: 1 } });
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(first.headers.get('cache-control')).toBe('no-cache');
      expect(unchanged).toMatchObject({ status: 304, body: undefined });
      expect(unchanged.headers.get('etag')).toBe(etag);
      expect(otherPage.status).toBe(200);
      expect(recorded).toMatchObject({ status: 200, body: { total: 2 } });
      expect(cleared).toMatchObject({ status: 200, body: { total: 0, entries: [] } });
    });

    it('answers the sent mail 304 to a read naming the ETag of the same page, until a mail arrives', async () => {
      // Prepare
      const mail = [stored('m-1', 1_000)];
      const call = await serve({ mail: new SesMailbox(() => mail) });
      const first = await call('GET', '/_local/mail?limit=200');
      const etag = first.headers.get('etag') ?? '';

      // Act
      const unchanged = await call('GET', '/_local/mail?limit=200', undefined, { 'if-none-match': `W/${etag}` });
      mail.push(stored('m-2', 2_000));
      const arrived = await call('GET', '/_local/mail?limit=200', undefined, { 'if-none-match': etag });

      // Assess
      expect(unchanged).toMatchObject({ status: 304, body: undefined });
      expect(arrived).toMatchObject({ status: 200, body: { total: 2 } });
      expect(arrived.headers.get('etag')).not.toBe(etag);
    });
  });

  describe('outbox', () => {
    it('answers one page of a channel, newest first, with the total and a cursor to the older ones', async () => {
      // Prepare: three in one millisecond, and another channel
      const outbox = new Outbox();
      for (const to of ['+1', '+2', '+3']) outbox.record({ channel: 'sms', provider: 'sns', to, body: {}, at: 5_000 });
      outbox.record({ channel: 'sms', provider: 'sns', to: '+4', body: {}, at: 6_000 });
      outbox.record({ channel: 'push', provider: 'web-push', to: 'https://push.example/1', body: {}, at: 7_000 });
      const call = await serve({ outbox });

      // Act
      const first = await call('GET', '/_local/outbox?channel=sms&limit=3');
      const next = await call('GET', `/_local/outbox?channel=sms&limit=3&cursor=${String((first.body as { nextCursor: string }).nextCursor)}`);
      const every = await call('GET', '/_local/outbox');

      // Assess
      const to = (answer: { body: unknown }): string[] => (answer.body as { entries: { to: string }[] }).entries.map((e) => e.to);
      expect(first.body).toMatchObject({ total: 4, nextCursor: expect.any(String) });
      expect(to(first)).toEqual(['+4', '+3', '+2']);
      expect(to(next)).toEqual(['+1']);
      expect(next.body).toMatchObject({ total: 4, nextCursor: null });
      expect(to(every)).toEqual(['https://push.example/1', '+4', '+3', '+2', '+1']);
      expect(every.body).toMatchObject({ total: 5, nextCursor: null });
    });

    it('keeps the newest capacity entries of a channel, the others\' untouched, and pages across the wrap-around', async () => {
      // Prepare: a capacity of 3, filled twice over by sms
      const outbox = new Outbox({ capacity: 3 });
      outbox.record({ channel: 'push', provider: 'web-push', to: 'https://push.example/1', body: {} });
      for (let i = 1; i <= 7; i += 1) outbox.record({ channel: 'sms', provider: 'sns', to: `+${i}`, body: {} });
      const call = await serve({ outbox });

      // Act
      const first = await call('GET', '/_local/outbox?limit=2');
      const second = await call('GET', `/_local/outbox?limit=2&cursor=${String((first.body as { nextCursor: string }).nextCursor)}`);

      // Assess
      const to = (answer: { body: unknown }): string[] => (answer.body as { entries: { to: string }[] }).entries.map((e) => e.to);
      expect([to(first), to(second)]).toEqual([['+7', '+6'], ['+5', 'https://push.example/1']]);
      expect(second.body).toMatchObject({ total: 4, nextCursor: null });
    });

    it('answers 410 naming cursor, on the JSON and on the page, once the cursor\'s entry was dropped past the capacity or forgotten', async () => {
      // Prepare: a page of a channel of capacity 4, then enough more to drop its cursor's entry
      const outbox = new Outbox({ capacity: 4 });
      const sms = (i: number): void => void outbox.record({ channel: 'sms', provider: 'sns', to: `+${i}`, body: {} });
      for (let i = 1; i <= 4; i += 1) sms(i);
      const call = await serve({ outbox });
      const first = await call('GET', '/_local/outbox?channel=sms&limit=2');
      const cursor = String((first.body as { nextCursor: string }).nextCursor);
      const kept = await call('GET', `/_local/outbox?channel=sms&limit=2&cursor=${cursor}`);
      for (let i = 5; i <= 7; i += 1) sms(i);

      // Act
      const json = await call('GET', `/_local/outbox?channel=sms&limit=2&cursor=${cursor}`);
      const page = await call('GET', `/_local/outbox.html?channel=sms&limit=2&cursor=${cursor}`);
      const fresh = await call('GET', '/_local/outbox?channel=sms&limit=2');
      await call('DELETE', '/_local/outbox?channel=sms');
      const cleared = await call('GET', `/_local/outbox?channel=sms&limit=2&cursor=${String((fresh.body as { nextCursor: string }).nextCursor)}`);

      // Assess
      expect(kept).toMatchObject({ status: 200, body: { entries: [{ to: '+2' }, { to: '+1' }] } });
      for (const answer of [json, page, cleared]) {
        expect(answer).toMatchObject({
          status: 410,
          body: { error: { code: 'CURSOR_GONE', details: [{ field: 'cursor', message: expect.stringContaining('the outbox keeps the newest 4 entries of each channel') }] } },
        });
      }
    });

    it.each([
      ['limit=-3', 'limit', 'must be at least 1'],
      ['channel=sms&limit=1.5', 'limit', 'must be a whole number'],
      ['cursor=e30', 'cursor', expect.stringMatching(/^is not a cursor of this list/)],
      ['before=5', 'before', 'is not a parameter of this endpoint (it takes limit, cursor, channel)'],
    ])('answers 400 naming the parameter for ?%s, on the JSON and on the page', async (search, field, message) => {
      // Prepare
      const call = await serve({ outbox: new Outbox() });

      // Act
      const json = await call('GET', `/_local/outbox?${search}`);
      const page = await call('GET', `/_local/outbox.html?${search}`);

      // Assess
      for (const answer of [json, page]) {
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ error: { code: 'VALIDATION_ERROR', details: [{ field, message }] } });
      }
    });
  });
});
