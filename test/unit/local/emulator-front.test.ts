import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallHook, RecognisedCall } from '../../../local/aws-call-hook.ts';
import { startEmulatorFront } from '../../../local/emulator-front.ts';
import type { EmulatorFront, EmulatorFrontOptions } from '../../../local/emulator-front.ts';

/** An emulator that answers what it read: the method, the URL and the body. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString('utf8') }));
  });
}

describe('the faultable endpoint of an emulator we did not write', () => {
  let front: EmulatorFront | undefined;
  const calls: RecognisedCall[] = [];
  const recording: CallHook = (_service, call) => {
    calls.push(call);
    return undefined;
  };

  async function start(overrides: Partial<EmulatorFrontOptions> = {}): Promise<string> {
    front = await startEmulatorFront({ service: 'sqs', hook: recording, serve: echo, log: () => undefined, ...overrides });
    return front.endpoint;
  }

  afterEach(async () => {
    await front?.stop();
    front = undefined;
    calls.length = 0;
  });

  it('names a JSON-protocol call from its header and hands the body to the emulator unread', async () => {
    // Prepare
    const endpoint = await start();
    const body = JSON.stringify({ QueueUrl: 'http://127.0.0.1/000000000000/q', MessageBody: 'hello' });

    // Act
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body });

    // Assess
    expect(await response.json()).toEqual({ method: 'POST', url: '/', body });
    expect(calls).toEqual([{ operation: 'SendMessage', protocol: 'awsJson' }]);
  });

  it('reads a query-protocol body for its action and replays the same bytes to the emulator', async () => {
    // Prepare
    const endpoint = await start();
    const body = new URLSearchParams({ Action: 'SendMessage', QueueUrl: 'http://127.0.0.1/000000000000/q', MessageBody: 'héllo' }).toString();

    // Act
    const response = await fetch(`${endpoint}/?x=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

    // Assess
    expect(await response.json()).toEqual({ method: 'POST', url: '/?x=1', body });
    expect(calls).toEqual([{ operation: 'SendMessage', protocol: 'awsQuery' }]);
  });

  it('answers the fault instead of serving the call', async () => {
    // Prepare
    let served = 0;
    const endpoint = await start({
      hook: () => ({ statusCode: 503, headers: { 'content-type': 'text/plain' }, body: 'injected' }),
      serve: (req, res) => {
        served += 1;
        echo(req, res);
      },
    });

    // Act
    const response = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'AmazonSQS.ListQueues', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });

    // Assess
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('injected');
    expect(served).toBe(0);
  });

  it('serves a request it cannot name without asking the hook', async () => {
    // Prepare
    const endpoint = await start();

    // Act
    const response = await fetch(`${endpoint}/health`);

    // Assess
    expect(await response.json()).toEqual({ method: 'GET', url: '/health', body: '' });
    expect(calls).toEqual([]);
  });

  it('answers 413 to a form body larger than it reads, and serves nothing', async () => {
    // Prepare
    const endpoint = await start({ maxFormBodyBytes: 1024 });

    // Act
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=SendMessage&MessageBody=${'x'.repeat(2048)}` });

    // Assess
    expect(response.status).toBe(413);
    expect(calls).toEqual([]);
  });

  it('answers 500 and reports why when the emulator throws', async () => {
    // Prepare
    const logged: string[] = [];
    const endpoint = await start({
      log: (line) => logged.push(line),
      serve: () => {
        throw new Error('emulator broke');
      },
    });

    // Act
    const response = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'AmazonSQS.ListQueues', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });

    // Assess
    expect(response.status).toBe(500);
    expect(logged.join('\n')).toContain('emulator broke');
  });
});
