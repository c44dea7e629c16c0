/**
 * What Lambda's DynamoDB stream event-source mapping hands a function and reads back: the event
 * built from GetRecords' records, the verdict on the function's `batchItemFailures`, and the
 * invocation record it sends to the on-failure destination when it gives a batch up.
 *
 * Sources: "Using AWS Lambda with Amazon DynamoDB" (the event), "Configuring partial batch
 * response with DynamoDB and Lambda" (success and failure conditions), "Retaining discarded
 * records for a DynamoDB event source in Lambda" (the invocation record).
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue, _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as EventAttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** An attribute value as JSON carries it (binary as base64), from the SDK's parsed form. */
function jsonValue(value: AttributeValue): EventAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(jsonValue) };
  if (value.M !== undefined) return { M: jsonMap(value.M) };
  return value as EventAttributeValue;
}

function jsonMap(map: Record<string, AttributeValue>): Record<string, EventAttributeValue> {
  return Object.fromEntries(Object.entries(map).map(([name, value]) => [name, jsonValue(value)]));
}

/** The event record Lambda builds from one GetRecords record (`userIdentity` in the event's lower-case form). */
export function toEventRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const ddb = record.dynamodb ?? {};
  const identity = record.userIdentity;
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName ?? 'MODIFY',
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? '',
    dynamodb: {
      ...(ddb.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(ddb.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: jsonMap(ddb.Keys ?? {}),
      ...(ddb.NewImage ? { NewImage: jsonMap(ddb.NewImage) } : {}),
      ...(ddb.OldImage ? { OldImage: jsonMap(ddb.OldImage) } : {}),
      SequenceNumber: ddb.SequenceNumber ?? '',
      SizeBytes: ddb.SizeBytes ?? 0,
      ...(ddb.StreamViewType ? { StreamViewType: ddb.StreamViewType } : {}),
    },
    eventSourceARN: streamArn,
    ...(identity ? { userIdentity: { type: identity.Type, principalId: identity.PrincipalId } } : {}),
  };
}

/** Lambda's DynamoDB stream event for a batch. */
export function toStreamEvent(records: readonly StreamRecord[], streamArn: string): DynamoDBStreamEvent {
  return { Records: records.map((record) => toEventRecord(record, streamArn)) };
}

/**
 * What a function's response says of its batch, as Lambda reads it with ReportBatchItemFailures:
 * `all` handled; `from`, the position of the lowest sequence number reported (Lambda checkpoints
 * before it and retries from it); or why the response fails the whole batch (an item without an
 * `itemIdentifier`, an empty one, one that names no record of the batch).
 */
export type BatchVerdict = { readonly kind: 'all' } | { readonly kind: 'from'; readonly index: number } | { readonly kind: 'invalid'; readonly reason: string };

/** Reads a function's response to a batch of records with these sequence numbers. */
export function batchVerdict(response: unknown, sequenceNumbers: readonly string[]): BatchVerdict {
  if (response === null || response === undefined) return { kind: 'all' };
  if (typeof response !== 'object' || Array.isArray(response)) return { kind: 'invalid', reason: `expected an object, got ${JSON.stringify(response)}` };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'all' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  let lowest: number | undefined;
  for (const failure of failures as unknown[]) {
    const id = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return { kind: 'invalid', reason: `item without an itemIdentifier: ${JSON.stringify(failure)}` };
    const index = sequenceNumbers.indexOf(id);
    if (index < 0) return { kind: 'invalid', reason: `itemIdentifier ${id} is not a sequence number of this batch` };
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return lowest === undefined ? { kind: 'all' } : { kind: 'from', index: lowest };
}

/** The document Lambda sends to a stream mapping's on-failure destination for a batch it gave up. */
export interface StreamFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: '$LATEST'; readonly functionError?: 'Unhandled' };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** An instant as the invocation record writes arrivals: whole seconds, `Z`. */
function arrival(record: StreamRecord | undefined): string {
  const at = record?.dynamodb?.ApproximateCreationDateTime ?? new Date(0);
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The invocation record of a batch given up after `invokeCount` invocations; `functionError` when the last one threw. */
export function failureRecord(input: {
  readonly records: readonly StreamRecord[];
  readonly shardId: string;
  readonly streamArn: string;
  readonly functionArn: string;
  readonly invokeCount: number;
  readonly functionError: boolean;
  readonly now: Date;
}): StreamFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  return {
    requestContext: { requestId: randomUUID(), functionArn: input.functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: input.invokeCount },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(input.functionError ? { functionError: 'Unhandled' as const } : {}) },
    version: '1.0',
    timestamp: input.now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first?.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: last?.dynamodb?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}
