/**
 * Counting a batch of the notifications stream: sums per tenant and UTC hour, one ADD each, and
 * the answer to a partial failure (the first record not counted, what was written past it taken
 * back) so that a retry from that record counts every record once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricCounts, NotificationImage } from '../../../../shared/domain/metrics.ts';
import { logger } from '../../../../shared/observability/logger.ts';
import type { MetricsStore } from '../../../../shared/ports.ts';
import { countTransitions } from '../../../../shared/use-cases/count-transitions.ts';
import type { ChangeRecord } from '../../../../shared/use-cases/count-transitions.ts';
import { InMemoryMetricsStore } from '../../fakes/index.ts';
import { awsError } from '../../fakes/fixtures.ts';

beforeAll(() => {
  logger.setLogLevel('SILENT');
});

const noon = new Date('2030-01-01T12:10:00.000Z');
const onePm = new Date('2030-01-01T13:05:00.000Z');

/** The metrics store, recording each ADD and failing those of the tenants named in `failing`. */
class RecordingMetrics implements Pick<MetricsStore, 'add'> {
  readonly store = new InMemoryMetricsStore();
  readonly adds: { tenantId: string; at: string; counts: MetricCounts }[] = [];
  readonly failing = new Set<string>();

  async add(tenantId: string, at: Date, counts: MetricCounts): Promise<void> {
    this.adds.push({ tenantId, at: at.toISOString(), counts });
    if (this.failing.has(tenantId)) throw awsError('ProvisionedThroughputExceededException', 400);
    await this.store.add(tenantId, at, counts);
  }
}

function pending(tenantId: string): NotificationImage {
  return { tenantId, status: 'pending', attempts: 0, deliveries: {} };
}

let sequence = 0;
/** A record of a notification of `tenantId` created at `at`. */
function created(tenantId: string, at = noon): ChangeRecord {
  return { sequenceNumber: String(++sequence), at, change: { after: pending(tenantId) } };
}

/** A record of a claim of a notification of `tenantId` at `at`. */
function claimed(tenantId: string, at = noon): ChangeRecord {
  return { sequenceNumber: String(++sequence), at, change: { before: pending(tenantId), after: { ...pending(tenantId), status: 'sending', attempts: 1 } } };
}

describe('countTransitions', () => {
  it('writes one ADD per tenant and hour, whatever the records in the batch', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    const records = [created('acme'), created('acme'), claimed('acme'), created('globex'), created('acme', onePm), claimed('globex')];

    // Act
    const result = await countTransitions({ metrics }, records);

    // Assess
    expect(result).toEqual({});
    expect(metrics.adds).toEqual([
      { tenantId: 'acme', at: '2030-01-01T12:00:00.000Z', counts: { 'notifications.pending': 2, 'notifications.sending': 1 } },
      { tenantId: 'globex', at: '2030-01-01T12:00:00.000Z', counts: { 'notifications.pending': 1, 'notifications.sending': 1 } },
      { tenantId: 'acme', at: '2030-01-01T13:00:00.000Z', counts: { 'notifications.pending': 1 } },
    ]);
    expect(metrics.store.hour('acme', noon)).toEqual({ 'notifications.pending': 2, 'notifications.sending': 1 });
  });

  it('writes nothing for a batch of writes that count nothing (deletions, reschedules, records of other items)', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    const records: ChangeRecord[] = [
      { sequenceNumber: '1', at: noon, change: { before: pending('acme') } },
      { sequenceNumber: '2', at: noon, change: { before: pending('acme'), after: pending('acme') } },
      { sequenceNumber: '3', at: noon, change: {} },
    ];

    // Act
    const result = await countTransitions({ metrics }, records);

    // Assess
    expect(result).toEqual({});
    expect(metrics.adds).toEqual([]);
  });

  it('answers the first record of a sum it could not write, and takes back what the written sums hold from there on', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    metrics.failing.add('globex');
    const records = [created('acme'), created('globex'), created('acme'), claimed('acme'), created('globex')];

    // Act
    const result = await countTransitions({ metrics }, records);

    // Assess: acme's records after globex's first (the 3rd and 4th) are taken back out.
    expect(result).toEqual({ firstNotCounted: records[1]?.sequenceNumber });
    expect(metrics.store.hour('acme', noon)).toEqual({ 'notifications.pending': 1, 'notifications.sending': 0 });
    expect(metrics.store.hour('globex', noon)).toEqual({});
  });

  it('counts every record once over a partial failure and the retry from the record it answered', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    metrics.failing.add('globex');
    const records = [created('acme'), claimed('acme'), created('globex'), created('acme'), claimed('globex')];
    const first = await countTransitions({ metrics }, records);
    metrics.failing.clear();
    const from = records.findIndex((record) => record.sequenceNumber === first.firstNotCounted);

    // Act
    const retried = await countTransitions({ metrics }, records.slice(from));

    // Assess
    expect(from).toBe(2);
    expect(retried).toEqual({});
    expect(metrics.store.hour('acme', noon)).toEqual({ 'notifications.pending': 2, 'notifications.sending': 1 });
    expect(metrics.store.hour('globex', noon)).toEqual({ 'notifications.pending': 1, 'notifications.sending': 1 });
  });

  it('still answers the record to retry from when taking counts back fails too (they are then counted twice)', async () => {
    // Prepare
    const metrics = new RecordingMetrics();
    metrics.failing.add('globex');
    const records = [created('globex'), created('acme')];
    const add = metrics.add.bind(metrics);
    const takeBacks: MetricCounts[] = [];
    metrics.add = async (tenantId, at, counts) => {
      if (Object.values(counts).some((value) => (value ?? 0) < 0)) {
        takeBacks.push(counts);
        throw awsError('InternalServerError', 500);
      }
      return add(tenantId, at, counts);
    };

    // Act
    const result = await countTransitions({ metrics }, records);

    // Assess
    expect(result).toEqual({ firstNotCounted: records[0]?.sequenceNumber });
    expect(metrics.store.hour('acme', noon)).toEqual({ 'notifications.pending': 1 });
    expect(takeBacks).toEqual([{ 'notifications.pending': -1 }]);
  });
});
