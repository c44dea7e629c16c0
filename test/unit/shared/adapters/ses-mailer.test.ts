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
import { SesMailer } from '../../../../shared/adapters/ses-mailer.ts';
import { classifyProviderError } from '../../../../shared/domain/delivery-errors.ts';
import { emailChannel, oneLine } from '../../../../shared/delivery/channels/email.ts';

const received: string[] = [];
let answer: 'ok' | 'hang up' = 'ok';
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

function aMailer(): { mailer: SesMailer; clientsMade: () => number } {
  let made = 0;
  const mailer = new SesMailer(() => {
    made++;
    return new SESClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
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
});

describe('the e-mail channel', () => {
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
