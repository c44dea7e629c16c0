/**
 * Counting the tenants' metrics from the notifications table's stream: each write of a
 * notification adds what `changeMetrics` (shared/domain/metrics.ts) says, in the UTC hour the
 * table made it. A batch of records is summed per tenant and hour first, so a batch costs one
 * `ADD` per tenant-hour, whatever the number of deliveries it holds.
 *
 * At least once, as the stream is: a batch that fails is read again. So that a partial failure
 * does not count again what was written, the answer names the first record not counted (Lambda
 * retries from it: "Configuring partial batch response with DynamoDB and Lambda"), and what the
 * written sums hold of records from that one on is taken back out with a negative `ADD`. What may
 * still count twice is said in docs/notifications-api.md, "Metrics".
 */
import { addCounts, changeMetrics, hourKey, negatedCounts, startOfHour } from '../domain/metrics.ts';
import type { MetricCounts, MetricName, NotificationChange } from '../domain/metrics.ts';
import { describeError } from '../domain/delivery-errors.ts';
import { logger } from '../observability/logger.ts';
import type { MetricsStore } from '../ports.ts';
import { mapLimited } from './map-limited.ts';

/** One record of the stream: its position, when the table made the change, and the change. */
export interface ChangeRecord {
  readonly sequenceNumber: string;
  readonly at: Date;
  readonly change: NotificationChange;
}

export interface CountTransitionsDeps {
  readonly metrics: Pick<MetricsStore, 'add'>;
}

/** What a batch came to: `firstNotCounted`, the sequence number to read again from, when some sum could not be written. */
export interface CountTransitionsResult {
  readonly firstNotCounted?: string;
}

/** The records of one tenant and hour, summed. */
interface TenantHour {
  readonly tenantId: string;
  readonly hour: Date;
  readonly counts: Partial<Record<MetricName, number>>;
  /** The position in the batch of each record summed, with what it adds. */
  readonly records: { readonly index: number; readonly counts: MetricCounts }[];
}

/** Sums written at once. */
const writeConcurrency = 8;

function tenantOf(change: NotificationChange): string | undefined {
  return change.after?.tenantId ?? change.before?.tenantId;
}

/** The batch's records summed per tenant and UTC hour, in the order each first appears. */
function sumByTenantHour(records: readonly ChangeRecord[]): TenantHour[] {
  const sums = new Map<string, TenantHour>();
  records.forEach((record, index) => {
    const counts = changeMetrics(record.change);
    const tenantId = tenantOf(record.change);
    if (tenantId === undefined || Object.keys(counts).length === 0) return;
    const key = `${tenantId}#${hourKey(record.at)}`;
    let sum = sums.get(key);
    if (!sum) {
      sum = { tenantId, hour: startOfHour(record.at), counts: {}, records: [] };
      sums.set(key, sum);
    }
    addCounts(sum.counts, counts);
    sum.records.push({ index, counts });
  });
  return [...sums.values()];
}

/**
 * Counts a batch of stream records into the tenants' hourly metrics: one `ADD` per tenant and
 * hour. Never throws for a failed write: it answers the sequence number of the first record it
 * could not count (the batch item failure to report), having taken back out of the written sums
 * every record from that one on, so that the retry counts each once.
 */
export async function countTransitions(deps: CountTransitionsDeps, records: readonly ChangeRecord[]): Promise<CountTransitionsResult> {
  const sums = sumByTenantHour(records);
  const written = await mapLimited(sums, writeConcurrency, async (sum) => {
    try {
      await deps.metrics.add(sum.tenantId, sum.hour, sum.counts);
      return true;
    } catch (error) {
      logger.warn('Could not add to the metrics; the records are read again', { tenantId: sum.tenantId, hour: hourKey(sum.hour), error: describeError(error) });
      return false;
    }
  });
  const failed = sums.filter((_, i) => !written[i]);
  if (failed.length === 0) return {};
  const first = Math.min(...failed.map((sum) => sum.records[0]?.index ?? records.length));
  await mapLimited(
    sums.filter((_, i) => written[i]),
    writeConcurrency,
    async (sum) => {
      const again: Partial<Record<MetricName, number>> = {};
      for (const record of sum.records) if (record.index >= first) addCounts(again, record.counts);
      if (Object.keys(again).length === 0) return;
      try {
        await deps.metrics.add(sum.tenantId, sum.hour, negatedCounts(again));
      } catch (error) {
        // The retry from `first` counts these records a second time: the one double count left.
        logger.error('Could not take back counts the retry will add again: they are counted twice', {
          tenantId: sum.tenantId,
          hour: hourKey(sum.hour),
          counts: again,
          error: describeError(error),
        });
      }
    },
  );
  const retryFrom = records[first];
  return retryFrom ? { firstNotCounted: retryFrom.sequenceNumber } : {};
}
