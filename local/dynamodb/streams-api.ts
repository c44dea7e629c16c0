/**
 * The DynamoDB Streams API (`DynamoDBStreams_20120810`) on the local endpoint, over the streams
 * kept in `streams.ts`: ListStreams, DescribeStream, GetShardIterator and GetRecords, with AWS's
 * errors (ResourceNotFoundException, TrimmedDataAccessException, ExpiredIteratorException,
 * ValidationException) so that `@aws-sdk/client-dynamodb-streams` and the AWS CLI work against it.
 *
 * Sources: the DynamoDB Streams API reference (each action, its errors and limits).
 */
import { Buffer } from 'node:buffer';
import { dynaliteActions, dynaliteDb } from './dynalite.ts';
import type { DynaliteError, DynaliteStore, Json } from './dynalite.ts';
import { runAction } from './guarded-actions.ts';
import type { TableSchemas } from './tables.ts';
import { SerializedJson } from './serialized-json.ts';
import { enabledStream } from './streams.ts';
import type { LiveStream, StreamedTableDescription, StreamLog } from './streams.ts';

export const streamsOperations = ['ListStreams', 'DescribeStream', 'GetShardIterator', 'GetRecords'] as const;
export type StreamsOperation = (typeof streamsOperations)[number];
/** The API version the Streams SDK sends in `X-Amz-Target`. */
export const STREAMS_API = 'DynamoDBStreams_20120810';

/** An iterator is good for 15 minutes after GetShardIterator or GetRecords returned it. */
export const ITERATOR_LIFETIME_MS = 15 * 60 * 1000;
/** GetRecords answers at most this many records, and about this many bytes. */
const MAX_RECORDS = 1000;
const MAX_BYTES = 1024 * 1024;

export interface StreamsApi {
  /** Runs a Streams operation on a parsed request; rejects with an AWS error answer (a DynaliteError) or an internal error. */
  run(operation: StreamsOperation, request: Json): Promise<Json | SerializedJson>;
}

export interface StreamsApiContext {
  readonly store: DynaliteStore;
  readonly tables: TableSchemas;
  readonly streams: StreamLog;
  /** @default Date.now */
  readonly now?: () => number;
}

function awsError(name: string, message: string): DynaliteError {
  return Object.assign(new Error(message), { statusCode: 400, body: { __type: `com.amazonaws.dynamodb.v20120810#${name}`, message } });
}

/** What an iterator holds: the stream, the shard, the first sequence number to read, when it was issued. */
interface IteratorState {
  readonly arn: string;
  readonly shardId: string;
  readonly from: bigint;
  readonly issuedAt: number;
}

function encodeIterator(state: IteratorState): string {
  return Buffer.from(JSON.stringify({ a: state.arn, s: state.shardId, f: state.from.toString(), t: state.issuedAt })).toString('base64url');
}

function decodeIterator(text: unknown): IteratorState {
  if (typeof text !== 'string' || text.length === 0 || text.length > 2048) throw dynaliteDb.validationError('Invalid ShardIterator');
  try {
    const { a, s, f, t } = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { a: unknown; s: unknown; f: unknown; t: unknown };
    if (typeof a !== 'string' || typeof s !== 'string' || typeof f !== 'string' || typeof t !== 'number') throw new Error('shape');
    return { arn: a, shardId: s, from: BigInt(f), issuedAt: t };
  } catch {
    throw dynaliteDb.validationError('Invalid ShardIterator');
  }
}

function sequenceNumber(value: unknown): bigint {
  if (typeof value !== 'string' || !/^\d{21,40}$/.test(value)) throw dynaliteDb.validationError(`Invalid SequenceNumber: ${String(value)}`);
  return BigInt(value);
}

/** The table name in a stream ARN: `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
function tableNameOf(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  return /^arn:aws[\w-]*:dynamodb:[^:]*:\d*:table\/([a-zA-Z0-9_.-]{3,255})\/stream\/[^/]+$/.exec(arn)?.[1];
}

/** Creates the Streams API over the endpoint's store and streams. */
export function createStreamsApi(context: StreamsApiContext): StreamsApi {
  const now = context.now ?? Date.now;

  async function streamByArn(arn: unknown): Promise<LiveStream> {
    const notFound = awsError('ResourceNotFoundException', `Requested resource not found: Stream: ${String(arn)} not found`);
    const tableName = tableNameOf(arn);
    if (!tableName) throw typeof arn === 'string' ? notFound : dynaliteDb.validationError('StreamArn is required');
    const table = (await context.tables.describe(tableName).catch(() => undefined)) as StreamedTableDescription | undefined;
    const stream = table && enabledStream(table)?.arn === arn ? context.streams.streamOf(table) : undefined;
    if (!stream) throw notFound;
    return stream;
  }

  function shardOf(stream: LiveStream, shardId: unknown): LiveStream {
    if (shardId !== stream.shardId) throw awsError('ResourceNotFoundException', `Requested resource not found: Shard does not exist`);
    return stream;
  }

  async function listStreams(request: Json): Promise<Json> {
    const limit = request.Limit === undefined ? 100 : Number(request.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw dynaliteDb.validationError('Limit must be between 1 and 100');
    const { TableNames = [] } = (await runAction(context.store, dynaliteActions.ListTables.action, {})) as { TableNames?: string[] };
    const names = request.TableName === undefined ? TableNames : TableNames.filter((name) => name === request.TableName);
    const streams: { StreamArn: string; TableName: string; StreamLabel: string }[] = [];
    for (const name of names) {
      const table = (await context.tables.describe(name).catch(() => undefined)) as StreamedTableDescription | undefined;
      const stream = table ? enabledStream(table) : undefined;
      if (stream) streams.push({ StreamArn: stream.arn, TableName: name, StreamLabel: stream.label });
    }
    const after = typeof request.ExclusiveStartStreamArn === 'string' ? streams.findIndex((s) => s.StreamArn === request.ExclusiveStartStreamArn) + 1 : 0;
    const page = streams.slice(after, after + limit);
    const last = page[page.length - 1];
    return { Streams: page, ...(after + limit < streams.length && last ? { LastEvaluatedStreamArn: last.StreamArn } : {}) };
  }

  async function describeStream(request: Json): Promise<Json> {
    const stream = await streamByArn(request.StreamArn);
    const shards = request.ExclusiveStartShardId === stream.shardId ? [] : [{ ShardId: stream.shardId, SequenceNumberRange: { StartingSequenceNumber: stream.startingSequence.toString() } }];
    return {
      StreamDescription: {
        StreamArn: stream.arn,
        StreamLabel: stream.label,
        StreamStatus: 'ENABLED',
        StreamViewType: stream.viewType,
        CreationRequestDateTime: Date.parse(`${stream.label}Z`) / 1000,
        TableName: stream.tableName,
        KeySchema: stream.keySchema,
        Shards: shards,
      },
    };
  }

  async function getShardIterator(request: Json): Promise<Json> {
    const stream = shardOf(await streamByArn(request.StreamArn), request.ShardId);
    let from: bigint;
    switch (request.ShardIteratorType) {
      case 'TRIM_HORIZON':
        from = stream.trimmedThrough + 1n;
        break;
      case 'LATEST':
        from = context.streams.latestPosition();
        break;
      case 'AT_SEQUENCE_NUMBER':
        from = sequenceNumber(request.SequenceNumber);
        break;
      case 'AFTER_SEQUENCE_NUMBER':
        from = sequenceNumber(request.SequenceNumber) + 1n;
        break;
      default:
        throw dynaliteDb.validationError(
          `1 validation error detected: Value '${String(request.ShardIteratorType)}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]`,
        );
    }
    if (from <= stream.trimmedThrough) throw awsError('TrimmedDataAccessException', 'The requested sequence number is beyond the trim horizon of the shard');
    return { ShardIterator: encodeIterator({ arn: stream.arn, shardId: stream.shardId, from, issuedAt: now() }) };
  }

  async function getRecords(request: Json): Promise<SerializedJson> {
    const limit = request.Limit === undefined ? MAX_RECORDS : Number(request.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECORDS) throw dynaliteDb.validationError(`Limit must be between 1 and ${MAX_RECORDS}`);
    const iterator = decodeIterator(request.ShardIterator);
    if (now() - iterator.issuedAt > ITERATOR_LIFETIME_MS) throw awsError('ExpiredIteratorException', 'Iterator expired. The iterator was created over 15 minutes ago');
    const stream = shardOf(await streamByArn(iterator.arn), iterator.shardId);
    const records = context.streams.read(stream, iterator.from, limit, MAX_BYTES);
    if (iterator.from <= stream.trimmedThrough) throw awsError('TrimmedDataAccessException', 'The operation attempted to read past the oldest stream record in a shard');
    const last = records[records.length - 1];
    const next = last ? last.sequence + 1n : iterator.from;
    const nextIterator = encodeIterator({ arn: stream.arn, shardId: stream.shardId, from: next, issuedAt: now() });
    return new SerializedJson(`{"Records":[${records.map((record) => record.json).join(',')}],"NextShardIterator":${JSON.stringify(nextIterator)}}`);
  }

  return {
    run(operation, request) {
      switch (operation) {
        case 'ListStreams':
          return listStreams(request);
        case 'DescribeStream':
          return describeStream(request);
        case 'GetShardIterator':
          return getShardIterator(request);
        case 'GetRecords':
          return getRecords(request);
      }
    },
  };
}
