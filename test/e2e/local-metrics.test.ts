/**
 * End to end on the local stack: the delivery metrics the deliver function prints as EMF are read
 * back at `/_local/metrics`, under the names and dimensions the dashboard graphs. The functions'
 * stdout goes to a file of its own here (`functionOutput`, as the benchmarks use it): the metrics
 * are read all the same, and the file holds what the functions printed.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryMetricDimensions, deliveryMetrics } from '../../shared/observability/metric-names.ts';
import { eventually, startHarness } from './support/harness.ts';
import type { Harness } from './support/harness.ts';

let h: Harness;
let scratch: string;
let stdoutPath: string;
let stdoutFd: number;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'herald-function-output-'));
  stdoutPath = join(scratch, 'functions.log');
  stdoutFd = openSync(stdoutPath, 'w');
  h = await startHarness({ functionOutput: { stdout: stdoutFd, stderr: 2 } });
});

afterAll(async () => {
  await h?.close();
  closeSync(stdoutFd);
  await rm(scratch, { recursive: true, force: true });
});

interface LocalMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
  readonly count: number;
  readonly sum: number;
}

async function localMetrics(): Promise<LocalMetric[]> {
  const response = await fetch(`${h.stack.httpUrl}/_local/metrics`);
  return ((await response.json()) as { metrics: LocalMetric[] }).metrics;
}

describe('/_local/metrics', () => {
  it('shows each e-mail delivered, with its lateness, as the functions emitted them', async () => {
    // Prepare
    const admin = await h.token('ops', { role: 'admin' });
    await h.api('POST', '/v1/recipients/batch', { token: admin, body: { recipients: [{ id: 'bob', email: 'bob@example.com' }, { id: 'carol', email: 'carol@example.com' }] } });

    // Act
    const created = await h.api('POST', '/v1/notifications', { token: admin, body: { recipients: ['bob', 'carol'], title: 'Hi', message: 'Two', channels: ['email'] } });

    // Assess
    expect(created.status).toBe(201);
    const metrics = await eventually(localMetrics, (all) => all.some((m) => m.name === deliveryMetrics.counts.delivered && m.sum >= 2));
    const delivered = metrics.find((m) => m.name === deliveryMetrics.counts.delivered);
    expect(delivered).toMatchObject({ namespace: deliveryMetrics.namespace, dimensions: deliveryMetricDimensions('email'), sum: 2 });
    expect(metrics.find((m) => m.name === deliveryMetrics.lateness)).toMatchObject({ dimensions: deliveryMetricDimensions('email'), count: 2 });
    const printed = readFileSync(stdoutPath, 'utf8').split('\n').filter((line) => line.startsWith('{"_aws"'));
    const deliveredLines = printed.filter((line) => (JSON.parse(line) as Record<string, unknown>)[deliveryMetrics.counts.delivered] !== undefined);
    expect(deliveredLines.length).toBeGreaterThan(0);
  });
});
