/**
 * An SQS batch with partial failures (`ReportBatchItemFailures`): each record is handled on its
 * own, concurrently, and only those that must come back are reported, so the event-source
 * mapping deletes the rest.
 */
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Handles every record; `keep` resolves true for a record that must stay on the queue. */
export async function processSqsBatch(event: SQSEvent, keep: (record: SQSRecord) => Promise<boolean>): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      if (await keep(record)) batchItemFailures.push({ itemIdentifier: record.messageId });
    }),
  );
  return { batchItemFailures };
}
