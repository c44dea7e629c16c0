/**
 * The SES mailer through the SDK's real serialization (no mock of `send`): an error raised before
 * the request left is flagged as not sent, so the engine retries it, and the next send, to another
 * recipient, goes out on a fresh client.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESClient } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsweredErrorsRetryStrategy } from '../../../../shared/adapters/answered-errors-retry-strategy.ts';
import { SesMailer } from '../../../../shared/adapters/ses-mailer.ts';
import { BudgetSecondPassedError } from '../../../../shared/domain/rate-budget.ts';
import { classifyProviderError } from '../../../../shared/domain/delivery-errors.ts';
import { emailChannel, oneLine } from '../../../../shared/delivery/channels/email.ts';

const received: string[] = [];
let answer: 'ok' | 'hang up' | 'throttle once' = 'ok';
let server: Server;
let endpoint: string;

function bodyOf(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      received.push(body);
      if (answer === 'hang up') return void request.socket.destroy();
      if (answer === 'throttle once') {
        // SES's answer past the account's maximum send rate ("Sending quotas", SES Developer Guide).
        answer = 'ok';
        response.writeHead(400, { 'content-type': 'text/xml' });
        return void response.end('<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error><RequestId>r1</RequestId></ErrorResponse>');
      }
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>m${received.length}</MessageId></SendEmailResult></SendEmailResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** `retrying`: the SDK retries as Herald's functions do (AnsweredErrorsRetryStrategy, 3 attempts), without its waits. */
function aMailer(options: { readonly retrying?: boolean } = {}): { mailer: SesMailer; clientsMade: () => number } {
  let made = 0;
  const mailer = new SesMailer(() => {
    made++;
    const retries = options.retrying ? { retryStrategy: new AnsweredErrorsRetryStrategy({ baseDelayMs: 1, random: () => 0 }) } : { maxAttempts: 1 };
    return new SESClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, ...retries });
  }, 'herald@example.com');
  return { mailer, clientsMade: () => made };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('SesMailer', () => {
  it('flags a send that failed while the request was built (half an emoji) as not sent, and the engine retries it', async () => {
    // Prepare: the example reaching the SDK
    const { mailer } = aMailer();
    received.length = 0;

    // Act
    const error = await rejectionOf(mailer.send({ to: 'ann@example.com', subject: 'Sale \ud83d ends', text: 'Today only' }));

    // Assess
    expect(error).toBeInstanceOf(URIError);
    expect((error as { $notSent?: boolean }).$notSent).toBe(true);
    expect(classifyProviderError(error)).toEqual({ kind: 'transient' });
    expect(received).toEqual([]);
  });

  it('sends the next e-mail, to another recipient, on a fresh client', async () => {
    // Prepare
    const { mailer, clientsMade } = aMailer();
    received.length = 0;
    await rejectionOf(mailer.send({ to: 'ann@example.com', subject: 'Sale \ud83d ends', text: 'Today only' }));

    // Act
    const sent = await mailer.send({ to: 'bob@example.com', subject: 'Sale ends', text: 'Today only' });

    // Assess
    expect(sent).toEqual({ messageId: 'm1' });
    expect(clientsMade()).toBe(2);
    expect(received).toHaveLength(1);
    expect(decodeURIComponent(received[0] ?? '')).toContain('bob@example.com');
  });

  it('sends an HTML e-mail as SendEmail with both Body.Html and Body.Text (multipart/alternative)', async () => {
    // Prepare
    const { mailer } = aMailer();
    received.length = 0;

    // Act
    await mailer.send({ to: 'ann@example.com', subject: 'Invoice', text: 'Hello Ann', html: '<p>Hello <b>Ann</b></p>' });
    await mailer.send({ to: 'bob@example.com', subject: 'Invoice', text: 'Hello Bob' });

    // Assess: the SES query API's own parameters
    const [html, plain] = received.map((body) => new URLSearchParams(body));
    expect(html?.get('Action')).toBe('SendEmail');
    expect(html?.get('Message.Body.Html.Data')).toBe('<p>Hello <b>Ann</b></p>');
    expect(html?.get('Message.Body.Html.Charset')).toBe('UTF-8');
    expect(html?.get('Message.Body.Text.Data')).toBe('Hello Ann');
    expect(plain?.get('Message.Body.Text.Data')).toBe('Hello Bob');
    expect(plain?.has('Message.Body.Html.Data')).toBe(false);
  });

  it('does not flag a send whose request left (the connection dropped after it): it may have gone out', async () => {
    // Prepare
    const { mailer, clientsMade } = aMailer();
    answer = 'hang up';

    // Act
    const error = await rejectionOf(mailer.send({ to: 'bob@example.com', subject: 'Hi', text: 'Hello' }));
    answer = 'ok';

    // Assess
    expect((error as { $notSent?: boolean }).$notSent).toBeUndefined();
    expect(classifyProviderError(error)).toEqual({ kind: 'unknown' });
    expect(clientsMade()).toBe(1);
  });

  it('runs the send-budget check before each attempt: a send SES throttled is not retried once its reserved second is over', async () => {
    // Prepare: SES throttles the first attempt; the second ends while that answer comes back
    const { mailer } = aMailer({ retrying: true });
    received.length = 0;
    answer = 'throttle once';
    let checks = 0;
    const beforeSend = (): void => {
      checks++;
      if (received.length > 0) throw new BudgetSecondPassedError('ses', Date.parse('2030-01-01T00:00:01Z'));
    };

    // Act
    const error = await rejectionOf(mailer.send({ to: 'ann@example.com', subject: 'Hi', text: 'Hello' }, { beforeSend }));

    // Assess: the retry was held back, not sent in a second nobody reserved, with SES's answer as its cause
    expect(error).toBeInstanceOf(BudgetSecondPassedError);
    expect(checks).toBe(2);
    expect(received).toHaveLength(1);
    expect(classifyProviderError((error as Error).cause)).toEqual({ kind: 'throttled', retryAfterMs: 1_000 });
  });

  it('retries a throttled send at once while its reserved second lasts, the check run before each attempt', async () => {
    // Prepare
    const { mailer } = aMailer({ retrying: true });
    received.length = 0;
    answer = 'throttle once';
    let checks = 0;

    // Act
    const sent = await mailer.send({ to: 'ann@example.com', subject: 'Hi', text: 'Hello' }, { beforeSend: () => void checks++ });

    // Assess
    expect(sent).toEqual({ messageId: 'm2' });
    expect(checks).toBe(2);
    expect(received).toHaveLength(2);
  });
});

describe('the e-mail channel', () => {
  it("hands the engine's send-budget check to the mailer, run before each attempt of SendEmail", async () => {
    // Prepare: SES throttles the first attempt; the reserved second is over by the retry
    const { mailer } = aMailer({ retrying: true });
    received.length = 0;
    answer = 'throttle once';
    const channel = emailChannel(mailer);
    const context = {
      tenantId: 'acme',
      recipient: { tenantId: 'acme', id: 'ann', email: 'ann@example.com', groups: [], createdAt: '', updatedAt: '' },
      live: { connections: [], unread: 0, unreadVersion: 0 },
      now: new Date(),
      checkBudgetSecond: () => {
        if (received.length > 0) throw new BudgetSecondPassedError('ses', Date.parse('2030-01-01T00:00:01Z'));
      },
    };

    // Act
    const error = await rejectionOf(channel.send('ann@example.com', { subject: 'Hi', text: 'Hello' }, context));

    // Assess
    expect(error).toBeInstanceOf(BudgetSecondPassedError);
    expect(received).toHaveLength(1);
  });

  it('renders a title on one header line, whatever it holds', () => {
    // Prepare
    const channel = emailChannel({ send: async () => ({}) });
    const content = { id: 'ntf_1', title: 'Hi\r\nBcc: victim@example.com\u2028x', message: 'Body\nlines', type: 'system', priority: 'normal' as const, createdAt: '2030-01-01T00:00:00Z', scheduledAt: null };

    // Act
    const body = channel.render(content, {});

    // Assess
    expect(body).toEqual({ subject: 'Hi Bcc: victim@example.com x', text: 'Body\nlines' });
    expect(oneLine('plain')).toBe('plain');
  });

  it("renders a template's e-mail section: HTML and its text alternative, the subject on one line", () => {
    // Prepare
    const channel = emailChannel({ send: async () => ({}) });
    const base = { id: 'ntf_1', title: 'Fallback', message: 'Fallback body', type: 'system', priority: 'normal' as const, createdAt: '2030-01-01T00:00:00Z', scheduledAt: null };
    const rendered = {
      templateId: 'invoice',
      version: 1,
      locale: 'fr',
      channels: { inbox: { title: 'Facture', message: 'Prête' }, email: { subject: 'Facture\n7', html: '<p>Prête</p>', text: 'Prête' } },
      failures: {},
    };

    // Act
    const body = channel.render({ ...base, rendered }, {});
    const fallback = channel.render({ ...base, rendered: { ...rendered, channels: { inbox: rendered.channels.inbox } } }, {});

    // Assess
    expect(body).toEqual({ subject: 'Facture 7', html: '<p>Prête</p>', text: 'Prête' });
    expect(fallback).toEqual({ subject: 'Fallback', text: 'Fallback body' });
    expect(() => channel.render({ ...base, rendered: { ...rendered, channels: { inbox: rendered.channels.inbox }, failures: { email: 'missing variable "x"' } } }, {})).toThrow(
      /missing variable "x"/,
    );
  });
});
