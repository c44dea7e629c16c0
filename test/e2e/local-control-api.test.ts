/**
 * The local stack's operations endpoints, through a started stack: fault rules given at start-up
 * and through `/_local/faults`, the functions' AWS calls at `/_local/calls`, the endpoint listing,
 * and running rules on demand. Also `npm start` refusing a bad `HERALD_FAULTS`.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../local/fault-rules.ts';
import { LOCAL_REGION, startLocalStack } from '../../local/stack.ts';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { startMain } from '../unit/support/processes.ts';

const startupRule: FaultRule = {
  service: 'ses',
  operation: 'SendEmail',
  probability: 0.2,
  error: { statusCode: 503, code: 'ServiceUnavailable' },
};
const dynamoOutage: FaultRule = { service: 'dynamodb', probability: 1, error: { statusCode: 400, code: 'ValidationException', message: 'Injected' } };

let h: Harness;
let admin: string;

beforeAll(async () => {
  h = await startHarness({ faults: [startupRule], faultSeed: 7 });
  admin = await h.token('ops', { role: 'admin' });
});

afterAll(async () => {
  await h?.close();
});

describe('fault rules', () => {
  it('starts with the rules given to startLocalStack', async () => {
    // Act
    const response = await h.api('GET', '/_local/faults');

    // Assess
    expect(response).toEqual({ status: 200, body: { rules: [startupRule], injected: {} } });
  });

  it('fails the functions\' calls to the emulated service while the rules last, then not', async () => {
    // Prepare
    const posted = await h.api('POST', '/_local/faults', { body: [dynamoOutage] });

    // Act
    const duringOutage = await h.api('PUT', '/v1/recipients/carol', { token: admin, body: { email: 'carol@example.com' } });
    const state = await h.api('GET', '/_local/faults');
    const cleared = await h.api('DELETE', '/_local/faults');
    const afterOutage = await h.api('PUT', '/v1/recipients/carol', { token: admin, body: { email: 'carol@example.com' } });

    // Assess
    expect(posted).toEqual({ status: 200, body: { rules: [dynamoOutage], injected: {} } });
    expect(duringOutage.status).toBe(500);
    expect(Object.values(state.body.injected as Record<string, Record<string, number>>)).toHaveLength(1);
    expect(Object.keys((state.body.injected as { dynamodb: Record<string, number> }).dynamodb).length).toBeGreaterThan(0);
    // Clearing the rules keeps the counters, so a test can read them after the outage.
    expect(cleared).toEqual({ status: 200, body: { rules: [], injected: state.body.injected } });
    expect(afterOutage.status).toBe(201);
  });

  it('answers a request that meets a DynamoDB outage (its 500s) with a 503 to retry, not a bare 500', async () => {
    // Prepare
    await h.api('POST', '/_local/faults', { body: [{ service: 'dynamodb', probability: 1, error: { statusCode: 500, code: 'InternalServerError', message: 'Injected' } }] });

    // Act
    const duringOutage = await h.api('PUT', '/v1/recipients/dora', { token: admin, body: { email: 'dora@example.com' } });
    await h.api('DELETE', '/_local/faults');

    // Assess
    expect(duringOutage).toEqual({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'A service Herald depends on could not take the request now; retry later' } } });
  });

  it('never faults the emulators\' own endpoints, which the AWS CLI uses', async () => {
    // Prepare
    await h.api('POST', '/_local/faults', { body: [dynamoOutage] });
    const listing = await h.api('GET', '/_local/endpoints');
    const cli = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      endpoint: listing.body.dynamodb as string,
    });

    // Act
    const tables = await cli.send(new ListTablesCommand({})).finally(() => cli.destroy());
    await h.api('DELETE', '/_local/faults');

    // Assess
    expect(tables.TableNames).toEqual(expect.arrayContaining(Object.values(h.stack.tableNames)));
  });

  it('refuses invalid rules with a 400 naming the field and keeps the rules in force', async () => {
    // Prepare
    await h.api('POST', '/_local/faults', { body: [startupRule] });

    // Act
    const badProbability = await h.api('POST', '/_local/faults', { body: [{ ...startupRule, probability: 1.5 }] });
    const badOperation = await h.api('POST', '/_local/faults', { body: [{ ...startupRule, operation: 'SendMail' }] });
    const notJson = await h.api('POST', '/_local/faults', { rawBody: '[{' });
    const notArray = await h.api('POST', '/_local/faults', { body: startupRule });
    const after = await h.api('GET', '/_local/faults');

    // Assess
    expect(badProbability.status).toBe(400);
    expect(badProbability.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: '0.probability' }] });
    expect(badOperation.status).toBe(400);
    expect(badOperation.body.error?.message).toContain('0.operation SendMail is not an operation of ses');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error?.message).toBe('Request body is not valid JSON');
    expect(notArray.status).toBe(400);
    expect(after.body.rules).toEqual([startupRule]);
  });
});

describe('GET /_local/endpoints', () => {
  it('lists the emulators\' plain endpoints for the AWS CLI and the faultable ones the functions use', async () => {
    // Act
    const response = await h.api('GET', '/_local/endpoints');

    // Assess
    const services = ['dynamodb', 'sqs', 'ses', 'scheduler', 'apigatewaymanagementapi', 'sns', 'secretsmanager'];
    // Besides AWS's: the Web Push service and the Telegram Bot API, one endpoint each (each counts and faults its calls itself).
    const single = ['push', 'telegram'];
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ...h.stack.endpoints, faultable: h.stack.faultableEndpoints });
    expect(Object.keys(h.stack.endpoints).sort()).toEqual([...services, ...single].sort());
    for (const service of single) {
      expect((h.stack.endpoints as unknown as Record<string, string>)[service]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((h.stack.faultableEndpoints as unknown as Record<string, string>)[service]).toBe((h.stack.endpoints as unknown as Record<string, string>)[service]);
    }
    for (const service of services) {
      const raw = (h.stack.endpoints as unknown as Record<string, string>)[service];
      const faultable = (h.stack.faultableEndpoints as unknown as Record<string, string>)[service];
      expect(raw).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(faultable).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(faultable).not.toBe(raw);
    }
  });
});

describe('GET and DELETE /_local/calls', () => {
  it('counts the AWS calls the functions make, by service and operation, and not the stack\'s own', async () => {
    // Prepare
    await h.api('DELETE', '/_local/faults');
    const reset = await h.api('DELETE', '/_local/calls');
    const cli = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      endpoint: h.stack.endpoints.dynamodb,
    });

    // Act
    await cli.send(new ListTablesCommand({})).finally(() => cli.destroy());
    const put = await h.api('PUT', '/v1/recipients/dave', { token: admin, body: { email: 'dave@example.com' } });
    const counted = await h.api('GET', '/_local/calls');

    // Assess
    const calls = counted.body.calls as Record<string, Record<string, number>>;
    const sum = Object.values(calls).flatMap((perOperation) => Object.values(perOperation)).reduce((a, b) => a + b, 0);
    expect(reset).toEqual({ status: 200, body: { calls: {}, byFunction: {}, total: 0, dynamodbWrites: { tableItems: 0, indexEntries: 0 } } });
    expect(put.status).toBe(201);
    expect(Object.keys(calls.dynamodb ?? {}).length).toBeGreaterThan(0);
    expect(calls.dynamodb?.ListTables).toBeUndefined();
    expect(calls.sqs?.ReceiveMessage).toBeUndefined();
    expect(counted.body.total).toBe(sum);
    expect(sum).toBeGreaterThan(0);
    // The recipient's item and its entry in the directory's byTenant index: the DynamoDB writes.
    expect(counted.body.dynamodbWrites).toEqual({ tableItems: 1, indexEntries: 1 });
    // Every call the API made is the api function's, signed with its own key; the CLI's was not counted.
    expect(counted.body.byFunction).toEqual({ api: calls });
  });
});

describe('POST /_local/rules/{name}/run', () => {
  it('answers 404 naming an unknown rule', async () => {
    // Act
    const response = await h.api('POST', '/_local/rules/no-such-rule/run');

    // Assess
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(response.body.error?.message).toContain('No rule named no-such-rule');
  });

  it('answers 405 to a GET', async () => {
    // Act
    const response = await h.api('GET', '/_local/rules/no-such-rule/run');

    // Assess
    expect(response.status).toBe(405);
    expect(response.body.error).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });
});

describe('GET /_local/mail', () => {
  it('pages the mail the local SES accepted, newest first, the later of one second first', async () => {
    // Prepare: three in one second, as the local SES keeps whole seconds
    const ses = new SESv2Client({ endpoint: h.stack.endpoints.ses, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    for (const subject of ['first', 'second', 'third']) {
      await ses.send(new SendEmailCommand({
        FromEmailAddress: 'herald@example.com',
        Destination: { ToAddresses: ['paged@example.com'] },
        Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: subject } } } },
      }));
    }
    ses.destroy();

    // Act
    const newest = await h.api('GET', '/_local/mail?limit=2');
    const older = await h.api('GET', `/_local/mail?limit=2&cursor=${String(newest.body.nextCursor)}`);

    // Assess
    const subjects = (answer: typeof newest): string[] => (answer.body.emails as { subject: string }[]).map((e) => e.subject);
    expect(newest.status).toBe(200);
    expect(subjects(newest)).toEqual(['third', 'second']);
    expect(subjects(older)[0]).toBe('first');
    expect(newest.body.total).toBeGreaterThanOrEqual(3);
  });
});

describe('GET and DELETE /_local/outbox', () => {
  it('lists what the local providers received, newest first, per channel, and forgets it on DELETE', async () => {
    // Prepare
    h.stack.outbox.record({ channel: 'sms', provider: 'sns', to: '+15555550100', body: { Message: 'first' }, at: 1_000 });
    h.stack.outbox.record({ channel: 'sms', provider: 'sns', to: '+15555550101', body: { Message: 'second' }, at: 2_000 });
    h.stack.outbox.record({ channel: 'webhook', provider: 'webhook', to: 'https://example.com/hook', body: { id: 'x' }, at: 3_000 });

    // Act
    const sms = await h.api('GET', '/_local/outbox?channel=sms');
    const all = await h.api('GET', '/_local/outbox');
    const cleared = await h.api('DELETE', '/_local/outbox?channel=sms');
    const after = await h.api('GET', '/_local/outbox');

    // Assess
    expect(sms.status).toBe(200);
    expect((sms.body.entries as { to: string }[]).map((e) => e.to)).toEqual(['+15555550101', '+15555550100']);
    expect((all.body.entries as { channel: string }[]).map((e) => e.channel)).toEqual(['webhook', 'sms', 'sms']);
    expect(cleared.body.entries).toEqual([]);
    expect((after.body.entries as { channel: string }[]).map((e) => e.channel)).toEqual(['webhook']);
  });

  it('answers 400 naming the field for an unknown or repeated channel (pointing e-mail to its own viewer) and a repeated limit, and 405 to a POST', async () => {
    // Act
    const unknown = await h.api('GET', '/_local/outbox?channel=fax');
    const email = await h.api('GET', '/_local/outbox?channel=email');
    const posted = await h.api('POST', '/_local/outbox');
    // Repeated, as API Gateway passes a repeated parameter to the API's routes: joined with commas.
    const twice = await h.api('GET', '/_local/outbox?channel=sms&channel=push');
    const twoLimits = await h.api('GET', '/_local/outbox?limit=5&limit=10');

    // Assess
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'channel', message: 'must be one of push, sms, telegram, webhook' }] });
    expect(email.status).toBe(400);
    expect(email.body.error).toMatchObject({ details: [{ field: 'channel', message: expect.stringContaining('/_local/mail') }] });
    expect(posted.status).toBe(405);
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({ details: [{ field: 'channel', message: 'must be one of push, sms, telegram, webhook' }] });
    expect(twoLimits.status).toBe(400);
    expect(twoLimits.body.error).toMatchObject({ details: [{ field: 'limit' }] });
  });
});

describe('startLocalStack with faults', () => {
  it('refuses invalid rules naming the field', async () => {
    // Prepare
    const faults = [{ ...startupRule, probability: 2 }];

    // Act + Assess
    await expect(startLocalStack({ httpPort: 0, wsPort: 0, sesPort: 0, faults })).rejects.toThrow('0.probability');
  });
});


describe('npm start with HERALD_FAULTS', () => {
  it('exits with 2 naming the bad field before starting anything', async () => {
    // Act
    const { output, exited } = startMain({ HERALD_FAULTS: JSON.stringify([{ ...startupRule, service: 'pigeon' }]) });
    const code = await exited;

    // Assess
    expect(code).toBe(2);
    expect(output.stderr).toContain('HERALD_FAULTS: Invalid fault rules: 0.service');
  });

  it('starts with the rules in force', async () => {
    // Prepare
    const { child, output, exited } = startMain({ HERALD_FAULTS: JSON.stringify([startupRule]), HERALD_FAULTS_SEED: '42' });
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));

    try {
      // Act
      const ready = await eventually(
        async () => ({ url: /HTTP API (http:\/\/\S+) \|/.exec(output.stdout)?.[1], exitCode }),
        (state) => state.url !== undefined || state.exitCode !== undefined,
        20_000,
      );
      if (ready.url === undefined) throw new Error(`npm start exited with ${ready.exitCode}: ${output.stderr}`);
      const httpUrl = ready.url;
      const response = await fetch(`${httpUrl}/_local/faults`);

      // Assess
      expect(await response.json()).toEqual({ rules: [startupRule], injected: {} });
      expect(output.stdout).toContain('Fault injection: 1 rule(s) from HERALD_FAULTS');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
