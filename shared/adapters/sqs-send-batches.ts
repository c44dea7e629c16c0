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

/** One message of a batch: its body, and how long SQS keeps it invisible first (seconds, at most 900). */
export interface BatchEntry {
  readonly body: string;
  readonly delaySeconds?: number;
}

/** Sends every body, optionally delayed; resolves with how many SQS accepted and why not the rest. */
export async function sendBatches(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  delaySeconds?: number,
): Promise<BatchSendResult> {
  return sendEntries(sqs, queueUrl, bodies.map((body) => ({ body, ...(delaySeconds === undefined ? {} : { delaySeconds }) })));
}

/** Sends every entry, each with its own delay; resolves with how many SQS accepted and why not the rest. */
export async function sendEntries(sqs: SQSClient, queueUrl: string, entries: readonly BatchEntry[]): Promise<BatchSendResult> {
  const chunks: SendMessageBatchRequestEntry[][] = [];
  for (let start = 0; start < entries.length; start += maxBatchEntries) {
    chunks.push(
      entries.slice(start, start + maxBatchEntries).map((entry, index) => ({
        Id: String(index),
        MessageBody: entry.body,
        ...(entry.delaySeconds === undefined ? {} : { DelaySeconds: Math.min(maxDelaySeconds, Math.max(0, Math.ceil(entry.delaySeconds))) }),
      })),
    );
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
