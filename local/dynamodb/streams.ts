/**
 * The DynamoDB streams of the local endpoint's tables, in memory: each enabled stream has one
 * shard, open for the life of the process, whose records carry increasing sequence numbers and
 * are kept 24 hours, as AWS keeps them. Writes append here (`append`); the Streams API reads
 * (`streams-api.ts`). Nothing is persisted: after a restart on a data directory a stream starts
 * empty (its ARN, kept in the table's description, stays the same).
 *
 * Sources: "Change data capture for DynamoDB Streams" (retention, ordering per item, shards),
 * the DynamoDB Streams API reference (GetShardIterator, GetRecords: iterators expire after 15
 * minutes, at most 1,000 records and 1 MB per call).
 */
import { randomBytes } from 'node:crypto';
import type { TableDescription } from './dynalite.ts';
import { FifoLog } from '../fifo-log.ts';
import { changesNothing, recordBodyOf } from './stream-records.ts';
import type { ItemChange, ServiceIdentity, StreamRecordWire, StreamViewType } from './stream-records.ts';

/** A table description as the endpoint stores it, with the stream fields dynalite does not know. */
export interface StreamedTableDescription extends TableDescription {
  readonly StreamSpecification?: { readonly StreamEnabled: boolean; readonly StreamViewType?: StreamViewType };
  readonly LatestStreamArn?: string;
  readonly LatestStreamLabel?: string;
}

/** How long a record stays readable. */
export const STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * One record in its shard: its sequence number, when it was written (epoch ms), its size as AWS
 * counts it (`SizeBytes`), and the record as GetRecords answers it, serialized once when written.
 * A shard keeps 24 hours of records; as text a notification's INSERT record takes ~1.0 KB of
 * heap, against ~1.6 KB as objects, and GetRecords copies the text into its answer as it is.
 */
export interface StoredRecord {
  readonly sequence: bigint;
  readonly writtenAt: number;
  readonly sizeBytes: number;
  /** The JSON of a {@link StreamRecordWire}. */
  readonly json: string;
}

/**
 * The index of the first of `records` (in ascending sequence order) whose sequence number is at
 * least `from`; `records.length` when none is. A binary search: a shard keeps 24 hours of
 * records, and every poll of the stream asks.
 */
export function firstAtOrAfter(records: { readonly length: number; at(index: number): { readonly sequence: bigint } | undefined }, from: bigint): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((records.at(middle) as { readonly sequence: bigint }).sequence < from) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The one shard of a stream. */
export interface LiveStream {
  readonly arn: string;
  readonly label: string;
  readonly tableName: string;
  readonly viewType: StreamViewType;
  readonly keySchema: TableDescription['KeySchema'];
  readonly shardId: string;
  /** The sequence number of the shard's first record (whether or not it was written yet). */
  readonly startingSequence: bigint;
  /** Its records of the last 24 hours, oldest first (expired from the front in amortized O(1)). */
  readonly records: FifoLog<StoredRecord>;
  /** Every record up to this sequence number has been dropped (retention): reading there is refused. */
  trimmedThrough: bigint;
}

export interface StreamLogOptions {
  readonly region: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The stream a table description declares, when it is enabled. */
export function enabledStream(table: StreamedTableDescription): { arn: string; label: string; viewType: StreamViewType } | undefined {
  const spec = table.StreamSpecification;
  if (!spec?.StreamEnabled || !spec.StreamViewType || !table.LatestStreamArn || !table.LatestStreamLabel) return undefined;
  return { arn: table.LatestStreamArn, label: table.LatestStreamLabel, viewType: spec.StreamViewType };
}

/** A shard id as AWS shapes them: `shardId-<20 digits>-<8 hex>`. */
function newShardId(now: number): string {
  return `shardId-${String(now).padStart(20, '0')}-${randomBytes(4).toString('hex')}`;
}

export class StreamLog {
  private readonly streams = new Map<string, LiveStream>();
  private readonly listeners = new Set<(streamArn: string) => void>();
  private readonly region: string;
  private readonly now: () => number;
  /** Sequence numbers grow across restarts (they start from the clock) and never repeat within one. */
  private nextSequence: bigint;

  constructor(options: StreamLogOptions) {
    this.region = options.region;
    this.now = options.now ?? Date.now;
    this.nextSequence = 10n ** 20n + BigInt(this.now()) * 10n ** 6n;
  }

  /** The live stream of `table`, made on first use; undefined when the table has none enabled. */
  streamOf(table: StreamedTableDescription): LiveStream | undefined {
    const declared = enabledStream(table);
    if (!declared) return undefined;
    let stream = this.streams.get(declared.arn);
    if (!stream) {
      stream = {
        ...declared,
        tableName: table.TableName,
        keySchema: table.KeySchema,
        shardId: newShardId(this.now()),
        startingSequence: this.nextSequence,
        records: new FifoLog<StoredRecord>(),
        trimmedThrough: this.nextSequence - 1n,
      };
      this.streams.set(declared.arn, stream);
    }
    return stream;
  }

  /**
   * Appends one record per change that changed something, in order, to the stream of `table`
   * (nothing when it has none); `identity` marks the deletes Time to Live made.
   */
  append(table: StreamedTableDescription, changes: readonly ItemChange[], identity?: ServiceIdentity): void {
    const stream = this.streamOf(table);
    if (!stream) return;
    const changed = changes.filter((change) => !changesNothing(change));
    if (changed.length === 0) return;
    const writtenAt = this.now();
    this.trim(stream, writtenAt);
    for (const change of changed) {
      const sequence = this.nextSequence++;
      const body = recordBodyOf(table, stream.viewType, change);
      const wire: StreamRecordWire = {
        eventID: randomBytes(16).toString('hex'),
        eventName: body.eventName,
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: this.region,
        dynamodb: {
          // Rounded down to the second, as AWS does.
          ApproximateCreationDateTime: Math.floor(writtenAt / 1000),
          Keys: body.Keys,
          ...(body.NewImage ? { NewImage: body.NewImage } : {}),
          ...(body.OldImage ? { OldImage: body.OldImage } : {}),
          SequenceNumber: sequence.toString(),
          SizeBytes: body.SizeBytes,
          StreamViewType: stream.viewType,
        },
        ...(identity && body.eventName === 'REMOVE' ? { userIdentity: identity } : {}),
      };
      stream.records.push({ sequence, writtenAt, sizeBytes: body.SizeBytes, json: JSON.stringify(wire) });
    }
    for (const listener of this.listeners) listener(stream.arn);
  }

  /** Records of `stream` from sequence number `from` on, at most `limit` and about `maxBytes`; records past retention are dropped first. */
  read(stream: LiveStream, from: bigint, limit: number, maxBytes: number): StoredRecord[] {
    this.trim(stream, this.now());
    const start = firstAtOrAfter(stream.records, from);
    if (start === stream.records.length) return [];
    const out: StoredRecord[] = [];
    let bytes = 0;
    for (const record of stream.records.slice(start, start + limit)) {
      bytes += record.sizeBytes;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(record);
    }
    return out;
  }

  /** The sequence number the next record appended (to any stream) will get: where `LATEST` starts. */
  latestPosition(): bigint {
    return this.nextSequence;
  }

  /** Calls `listener` with a stream's ARN whenever records were appended to it; returns the unsubscribe. */
  onAppend(listener: (streamArn: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private trim(stream: LiveStream, now: number): void {
    const last = stream.records.dropWhile((record) => now - record.writtenAt >= STREAM_RETENTION_MS);
    if (last) stream.trimmedThrough = last.sequence;
  }
}

/** The stream ARN and label of a table created or updated now (`<table ARN>/stream/<ISO time without zone>`). */
export function newStreamArn(tableArn: string, now: number): { arn: string; label: string } {
  const label = new Date(now).toISOString().replace('Z', '');
  return { arn: `${tableArn}/stream/${label}`, label };
}
