import { GetSendQuotaCommand, SendEmailCommand, SendRawEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { GetAccountCommand, SendEmailCommand as SendEmailV2Command, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { afterEach, describe, expect, it } from 'vitest';
import { startSesEmulator } from '../../../local/ses-emulator.ts';
import type { SesEmulator, SesEmulatorOptions } from '../../../local/ses-emulator.ts';
import type { CallHook } from '../../../local/aws-call-hook.ts';
import { classifyProviderError } from '../../../shared/domain/delivery-errors.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function anEmail(to: readonly string[] = ['someone@example.com']): SendEmailCommand {
  return new SendEmailCommand({
    Source: 'herald@example.com',
    Destination: { ToAddresses: [...to] },
    Message: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi' } } },
  });
}

describe('the local SES: sending quotas', () => {
  let ses: SesEmulator | undefined;
  const clients: { destroy(): void }[] = [];

  async function start(options: Partial<SesEmulatorOptions> = {}): Promise<{ v1: SESClient; v2: SESv2Client; endpoint: string }> {
    ses = await startSesEmulator({ port: 0, log: () => undefined, ...options });
    await fetch(`${ses.endpoint}/clear-store`, { method: 'POST' });
    // The SDK would retry a throttled send: one attempt shows what SES answered.
    const v1 = new SESClient({ region, credentials, endpoint: ses.endpoint, maxAttempts: 1 });
    const v2 = new SESv2Client({ region, credentials, endpoint: ses.endpoint, maxAttempts: 1 });
    clients.push(v1, v2);
    return { v1, v2, endpoint: ses.endpoint };
  }

  async function storedEmails(endpoint: string): Promise<number> {
    const store = (await (await fetch(`${endpoint}/store`)).json()) as { emails: unknown[] };
    return store.emails.length;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await ses?.stop();
    ses = undefined;
  });

  it('answers GetSendQuota (SES v1) with the account quotas and what was sent in 24 hours', async () => {
    // Prepare
    const { v1 } = await start({ quota: { maxSendRate: 14, max24HourSend: 50_000 } });
    await v1.send(anEmail(['a@example.com', 'b@example.com']));

    // Act
    const quota = await v1.send(new GetSendQuotaCommand({}));

    // Assess: each recipient counts
    expect(quota).toMatchObject({ MaxSendRate: 14, Max24HourSend: 50_000, SentLast24Hours: 2 });
  });

  it('answers GetAccount (SES v2) with the send quota, production access and sending enabled', async () => {
    // Prepare
    const { v2 } = await start({ quota: { maxSendRate: 3, max24HourSend: -1 } });

    // Act
    const account = await v2.send(new GetAccountCommand({}));

    // Assess
    expect(account).toMatchObject({
      ProductionAccessEnabled: true,
      SendingEnabled: true,
      SendQuota: { MaxSendRate: 3, Max24HourSend: -1, SentLast24Hours: 0 },
    });
  });

  it('answers the quota with generous defaults when none is set', async () => {
    // Prepare
    const { v1 } = await start();

    // Act
    const quota = await v1.send(new GetSendQuotaCommand({}));

    // Assess
    expect(quota).toMatchObject({ MaxSendRate: 1_000, Max24HourSend: 1_000_000 });
  });

  it('refuses sends above the rate with Throttling, stores none of them, and never accepts more than the rate in any second', async () => {
    // Prepare
    const { v1, endpoint } = await start({ quota: { maxSendRate: 5 } });

    // Act: a burst of 40, in waves over about a second and a half
    const outcomes: PromiseSettledResult<unknown>[] = [];
    for (let wave = 0; wave < 4; wave += 1) {
      outcomes.push(...(await Promise.allSettled(Array.from({ length: 10 }, () => v1.send(anEmail())))));
      await new Promise((resolve) => setTimeout(resolve, 400));
    }

    // Assess
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as Error);
    const accepted = outcomes.length - refused.length;
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThanOrEqual(5);
    for (const error of refused) {
      expect(error).toMatchObject({ name: 'Throttling', message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 400 } });
      expect(classifyProviderError(error)).toMatchObject({ kind: 'throttled' });
    }
    const times = (ses?.sends().sends ?? []).map((send) => send.at);
    expect(times).toHaveLength(accepted);
    for (const start of times) expect(times.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(5);
    expect(await storedEmails(endpoint)).toBe(accepted);
  });

  it('refuses every kind of send once the rolling 24-hour quota is spent, and sends again a day later', async () => {
    // Prepare
    const firstAt = Date.parse('2027-01-12T09:00:00Z');
    let now = firstAt;
    const { v1, v2, endpoint } = await start({ quota: { max24HourSend: 3 }, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      await v1.send(anEmail());
      now += 2_000;
    }

    // Act
    const v1Refused = v1.send(anEmail());
    const rawRefused = v1.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from('From: herald@example.com\r\nTo: a@example.com\r\nSubject: x\r\n\r\nHi') } }));
    const v2Refused = v2.send(
      new SendEmailV2Command({
        FromEmailAddress: 'herald@example.com',
        Destination: { ToAddresses: ['a@example.com'] },
        Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi' } } } },
      }),
    );
    const refusals = await Promise.allSettled([v1Refused, rawRefused, v2Refused]);
    // The first send leaves the rolling 24 hours; the second and third are still in them.
    now = firstAt + 24 * 60 * 60 * 1000 + 1;
    const aDayLater = await v1.send(anEmail());

    // Assess
    const reasons = refusals.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error) : undefined));
    expect(reasons[0]).toMatchObject({ name: 'Throttling', message: 'Daily message quota exceeded.' });
    expect(reasons[1]).toMatchObject({ name: 'Throttling', message: 'Daily message quota exceeded.' });
    expect(reasons[2]).toBeInstanceOf(TooManyRequestsException);
    expect(reasons[2]).toMatchObject({ message: 'Daily message quota exceeded.', $metadata: { httpStatusCode: 429 } });
    expect(classifyProviderError(reasons[0])).toMatchObject({ kind: 'throttled', retryAfterMs: 60 * 60 * 1000 });
    expect(aDayLater.MessageId).toBeTruthy();
    expect(await storedEmails(endpoint)).toBe(4);
    expect(ses?.sends().quota.sentLast24Hours).toBe(3);
  });

  it('lists each accepted send with the millisecond SES accepted it and its MessageId', async () => {
    // Prepare
    const { v1 } = await start();
    const before = Date.now();

    // Act
    const { MessageId } = await v1.send(anEmail());

    // Assess
    const sends = ses?.sends().sends ?? [];
    expect(sends).toEqual([{ operation: 'SendEmail', recipients: 1, at: expect.any(Number) as number, messageId: MessageId }]);
    expect(sends[0]?.at).toBeGreaterThanOrEqual(before);
    expect(sends[0]?.at).toBeLessThanOrEqual(Date.now());
  });

  it('gives the quota back when SES refuses a send for another reason', async () => {
    // Prepare
    const { endpoint } = await start({ quota: { max24HourSend: 1 } });
    const unsigned = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=test' } };

    // Act: no subject, which aws-ses-v2-local refuses with 400
    const invalid = await fetch(endpoint, { ...unsigned, body: new URLSearchParams({ Action: 'SendEmail', Source: 'a@example.com' }).toString() });

    // Assess
    expect(invalid.status).toBe(400);
    expect(ses?.sends()).toMatchObject({ quota: { sentLast24Hours: 0 }, sends: [] });
  });

  it.each([
    ['a value over 255 characters', { Name: 'herald-recipient', Value: 'a'.repeat(256) }, 'Tag value cannot exceed 255 characters.'],
    ['a value with a colon', { Name: 'event', Value: 'id:1' }, "Invalid tag value <id:1>: only alphanumeric ASCII characters, '_', and '-' are allowed."],
    ['a name with a dot', { Name: 'a.b', Value: 'x' }, "Invalid tag name <a.b>: only alphanumeric ASCII characters, '_', and '-' are allowed."],
  ])('refuses a send whose tags SES refuses (%s), v1 and v2, and stores nothing', async (_case, tag, message) => {
    // Prepare
    const { v1, v2, endpoint } = await start();
    const v2Email = new SendEmailV2Command({
      FromEmailAddress: 'herald@example.com',
      Destination: { ToAddresses: ['someone@example.com'] },
      Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi' } } } },
      EmailTags: [tag],
    });

    // Act
    const refusals = await Promise.all([v1.send(new SendEmailCommand({ ...anEmail().input, Tags: [tag] })), v2.send(v2Email)].map((sent) => sent.catch((error: unknown) => error)));

    // Assess
    expect(refusals[0]).toMatchObject({ name: 'InvalidParameterValue', message, $metadata: { httpStatusCode: 400 } });
    expect(refusals[1]).toMatchObject({ name: 'BadRequestException', message, $metadata: { httpStatusCode: 400 } });
    expect(await storedEmails(endpoint)).toBe(0);
    expect(ses?.sends()).toMatchObject({ quota: { sentLast24Hours: 0 }, sends: [] });
  });

  it('takes the longest tags SES takes, and its own ses: tags', async () => {
    // Prepare
    const { v1, endpoint } = await start();

    // Act
    await v1.send(new SendEmailCommand({ ...anEmail().input, Tags: [{ Name: 'n'.repeat(256), Value: 'v'.repeat(255) }, { Name: 'ses:feedback-id-a', Value: 'x' }] }));

    // Assess
    expect(await storedEmails(endpoint)).toBe(1);
  });

  it('throttles the faultable endpoint the functions use, after the call hook', async () => {
    // Prepare
    const seen: string[] = [];
    const hook: CallHook = (_service, call) => {
      seen.push(call.operation);
      return undefined;
    };
    await start({ quota: { max24HourSend: 1 }, faultable: { hook } });
    const functions = new SESClient({ region, credentials, endpoint: ses?.faultableEndpoint ?? '', maxAttempts: 1 });
    clients.push(functions);

    // Act
    await functions.send(anEmail());
    const refused = functions.send(anEmail());

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'Throttling', message: 'Daily message quota exceeded.' });
    expect(seen).toEqual(['SendEmail', 'SendEmail']);
  });

  it('refuses quotas SES cannot have', async () => {
    // Act
    const zeroRate = startSesEmulator({ port: 0, quota: { maxSendRate: 0 } });
    const fractionalDay = startSesEmulator({ port: 0, quota: { max24HourSend: 2.5 } });

    // Assess
    await expect(zeroRate).rejects.toThrow('maxSendRate must be a positive number');
    await expect(fractionalDay).rejects.toThrow('max24HourSend must be a positive whole number');
  });
});

describe('the local SES: its list of the sent mail', () => {
  let ses: SesEmulator | undefined;
  let client: SESClient | undefined;

  async function startWithMail(subjects: readonly string[]): Promise<string> {
    ses = await startSesEmulator({ port: 0, log: () => undefined });
    await fetch(`${ses.endpoint}/clear-store`, { method: 'POST' });
    client = new SESClient({ region, credentials, endpoint: ses.endpoint, maxAttempts: 1 });
    for (const subject of subjects) {
      await client.send(new SendEmailCommand({ Source: 'herald@example.com', Destination: { ToAddresses: ['a@example.com'] }, Message: { Subject: { Data: subject }, Body: { Text: { Data: 'Hi' } } } }));
    }
    return ses.endpoint;
  }

  async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(url);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const subjects = (body: Record<string, unknown>): string[] => (body.emails as { subject: string }[]).map((e) => e.subject);

  afterEach(async () => {
    client?.destroy();
    await ses?.stop();
    ses = undefined;
  });

  it('answers GET /store?limit= one page newest first, with the total and a cursor that reaches the oldest', async () => {
    // Prepare
    const endpoint = await startWithMail(['s1', 's2', 's3', 's4', 's5']);

    // Act
    const first = await get(`${endpoint}/store?limit=2`);
    const second = await get(`${endpoint}/store?limit=2&cursor=${String(first.body.nextCursor)}`);
    const third = await get(`${endpoint}/store?limit=2&cursor=${String(second.body.nextCursor)}`);

    // Assess
    expect([subjects(first.body), subjects(second.body), subjects(third.body)]).toEqual([['s5', 's4'], ['s3', 's2'], ['s1']]);
    expect(first.body).toMatchObject({ total: 5, emails: [{ from: 'herald@example.com', destination: { to: ['a@example.com'] }, at: expect.any(Number) }, {}] });
    expect(third.body).toMatchObject({ total: 5, nextCursor: null });
  });

  it('still answers GET /store and /store?since= whole, as aws-ses-v2-local does for its own page', async () => {
    // Prepare
    const endpoint = await startWithMail(['s1', 's2']);

    // Act
    const whole = await get(`${endpoint}/store`);
    const since = await get(`${endpoint}/store?since=0`);

    // Assess
    expect(subjects(whole.body)).toEqual(['s1', 's2']);
    expect(subjects(since.body)).toEqual(['s1', 's2']);
    expect(whole.body).not.toHaveProperty('nextCursor');
  });

  it.each([
    ['limit=0', 'limit', 'must be at least 1'],
    ['limit=1001', 'limit', 'must be at most 1000'],
    ['cursor=nope', 'cursor', expect.stringMatching(/^is not a cursor of this list/)],
    ['limit=5&since=0', 'since', 'is not a parameter of this endpoint (it takes limit, cursor)'],
    ['page=2', 'page', 'is not a parameter of this endpoint (it takes limit, cursor)'],
  ])('answers GET /store?%s 400 naming the parameter', async (search, field, message) => {
    // Prepare
    const endpoint = await startWithMail([]);

    // Act
    const answer = await get(`${endpoint}/store?${search}`);

    // Assess
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_ERROR', details: [{ field, message }] } } });
  });

  it('answers 410 naming cursor for a cursor from before /clear-store, and pages what came after', async () => {
    // Prepare
    const endpoint = await startWithMail(['s1', 's2', 's3']);
    const first = await get(`${endpoint}/store?limit=1`);
    await fetch(`${endpoint}/clear-store`, { method: 'POST' });
    await client?.send(new SendEmailCommand({ Source: 'herald@example.com', Destination: { ToAddresses: ['a@example.com'] }, Message: { Subject: { Data: 's4' }, Body: { Text: { Data: 'Hi' } } } }));

    // Act
    const gone = await get(`${endpoint}/store?limit=1&cursor=${String(first.body.nextCursor)}`);
    const fresh = await get(`${endpoint}/store?limit=1`);

    // Assess
    expect(gone).toMatchObject({ status: 410, body: { error: { code: 'CURSOR_GONE', details: [{ field: 'cursor', message: expect.stringContaining('until its store is cleared') }] } } });
    expect(fresh.body).toMatchObject({ total: 1, nextCursor: null });
    expect(subjects(fresh.body)).toEqual(['s4']);
  });
});
