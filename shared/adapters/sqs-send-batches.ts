/**
 * Many messages onto one queue, ten per SendMessageBatch (the SQS maximum), the chunks in
 * parallel; entries SQS failed on its own side (`SenderFault: false`) are sent again.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';

/** SQS takes at most 10 entries per batch call. */
export const maxBatchEntries = 10;
/** SQS caps `DelaySeconds` at 15 minutes. */
export const maxDelaySeconds = 900;
/** Rounds of SendMessageBatch for the entries SQS failed on its side. */
const sendRounds = 3;

export interface BatchSendResult {
  /** Messages SQS accepted. */
  readonly accepted: number;
  /** Why the others were not (a refusal, or still failing after the last round). */
  readonly failures: readonly string[];
}

/** Sends every body, optionally delayed; resolves with how many SQS accepted and why not the rest. */
export async function sendBatches(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  delaySeconds?: number,
): Promise<BatchSendResult> {
  const delay = delaySeconds === undefined ? {} : { DelaySeconds: Math.min(maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds))) };
  const chunks: SendMessageBatchRequestEntry[][] = [];
  for (let start = 0; start < bodies.length; start += maxBatchEntries) {
    chunks.push(bodies.slice(start, start + maxBatchEntries).map((MessageBody, index) => ({ Id: String(index), MessageBody, ...delay })));
  }
  const results = await Promise.all(
    chunks.map(async (chunk): Promise<BatchSendResult> => {
      let entries = chunk;
      let accepted = 0;
      const failures: string[] = [];
      for (let round = 0; round < sendRounds && entries.length > 0; round++) {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        accepted += result.Successful?.length ?? 0;
        const failed = result.Failed ?? [];
        const retryable = new Set(failed.filter((f) => !f.SenderFault).map((f) => f.Id));
        failures.push(...failed.filter((f) => f.SenderFault).map((f) => `${f.Code ?? 'error'}: ${f.Message ?? ''}`));
        entries = entries.filter((entry) => retryable.has(entry.Id));
      }
      if (entries.length > 0) failures.push(`${entries.length} still failing after ${sendRounds} rounds`);
      return { accepted, failures };
    }),
  );
  return {
    accepted: results.reduce((sum, r) => sum + r.accepted, 0),
    failures: results.flatMap((r) => r.failures),
  };
}
