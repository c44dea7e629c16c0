import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiCallCounter } from '../../../local/api-call-counter.ts';
import { createControlApi } from '../../../local/control-api.ts';
import { createFaultInjector } from '../../../local/fault-rules.ts';
import { closeServer } from '../../../local/http-gateway.ts';
import { Outbox } from '../../../local/outbox.ts';

describe('the outbox page', () => {
  let server: Server | undefined;

  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  async function serve(outbox: Outbox): Promise<string> {
    const api = createControlApi({ faults: createFaultInjector(), calls: new ApiCallCounter(), endpoints: () => undefined, rules: () => undefined, outbox });
    server = createServer((req, res) => {
      void api(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('shows what a channel received, newest first, escaped, under a policy that runs no script', async () => {
    // Prepare
    const outbox = new Outbox();
    outbox.record({ channel: 'telegram', provider: 'telegram', to: '42', body: { text: 'the older one' }, providerMessageId: '1', at: 1_000 });
    outbox.record({ channel: 'telegram', provider: 'telegram', to: '42', body: { text: '<script>alert(1)</script>' }, providerMessageId: '2', at: 2_000 });
    outbox.record({ channel: 'webhook', provider: 'webhook', to: 'http://127.0.0.1:9/hook', body: { status: 200 }, at: 3_000 });
    const base = await serve(outbox);

    // Act
    const response = await fetch(`${base}/_local/outbox.html?channel=telegram`);
    const html = await response.text();

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html.indexOf('alert(1)')).toBeLessThan(html.indexOf('the older one'));
    expect(html).not.toContain('127.0.0.1:9/hook');
  });

  it('shows one page and links to the older entries of the same channel', async () => {
    // Prepare
    const outbox = new Outbox();
    for (let i = 0; i < 105; i += 1) outbox.record({ channel: 'sms', provider: 'sns', to: `+1555000${String(i).padStart(4, '0')}`, body: {}, at: i });
    const base = await serve(outbox);

    // Act
    const first = await (await fetch(`${base}/_local/outbox.html?channel=sms`)).text();
    const href = /<a href="(\/_local\/outbox\.html\?[^"]*cursor=[^"]*)">Older<\/a>/.exec(first)?.[1]?.replaceAll('&#38;', '&');
    const older = await (await fetch(`${base}${href ?? '/missing'}`)).text();

    // Assess: the default page of 100, newest first; the link keeps the channel and reaches the rest
    expect(first).toContain('100 of 105 shown here.');
    expect(first).toContain('+15550000104');
    expect(first).not.toContain('+15550000004');
    expect(href).toContain('channel=sms');
    expect(older).toContain('+15550000004');
    expect(older).not.toContain('+15550000005<');
    expect(older).not.toContain('Older</a>');
  });

  it('refuses an unknown channel by name, and any method but GET', async () => {
    // Prepare
    const base = await serve(new Outbox());

    // Act
    const unknown = await fetch(`${base}/_local/outbox.html?channel=pigeon`);
    const deleting = await fetch(`${base}/_local/outbox.html`, { method: 'DELETE' });

    // Assess
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { details: [{ field: 'channel' }] } });
    expect(deleting.status).toBe(405);
    expect(deleting.headers.get('allow')).toBe('GET');
  });
});
