/**
 * One DynamoDB Streams record, built from a write's item before and after, as AWS builds it:
 * `INSERT` (no item before), `MODIFY`, `REMOVE` (no item after); the key attributes always; the
 * images the stream's view type asks for; `SizeBytes`; and for a delete by Time to Live, the
 * service's `userIdentity`. A write that changes nothing (a put of the same item, an update that
 * sets what is there) writes no record.
 *
 * Sources: "Change data capture for DynamoDB Streams", "DynamoDB Streams and Time to Live", and
 * the DynamoDB Streams API reference (Record, StreamRecord, Identity).
 */
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, AttributeValue, TableDescription } from './dynalite.ts';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export const streamViewTypes: readonly StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

/** One write to an item of a table: the item before (absent if it did not exist) and after (absent if deleted). */
export interface ItemChange {
  readonly before: AttributeMap | undefined;
  readonly after: AttributeMap | undefined;
}

/** Who made a write, when it was not the table's own caller: DynamoDB itself, deleting an expired item. */
export interface ServiceIdentity {
  readonly PrincipalId: 'dynamodb.amazonaws.com';
  readonly Type: 'Service';
}

/** The identity AWS puts on the records of items Time to Live deleted. */
export const ttlIdentity: ServiceIdentity = { PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' };

/** A record as GetRecords answers it (awsJson: `ApproximateCreationDateTime` in epoch seconds). */
export interface StreamRecordWire {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: AttributeMap;
    readonly NewImage?: AttributeMap;
    readonly OldImage?: AttributeMap;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly userIdentity?: ServiceIdentity;
}

/** An attribute value in one canonical form: sets sorted, map keys sorted, so equal values compare equal. */
function canonical(value: AttributeValue): unknown {
  const [type, inner] = Object.entries(value)[0] ?? [];
  if (type === 'SS' || type === 'NS' || type === 'BS') return { [type]: [...(inner as string[])].sort() };
  if (type === 'L') return { L: (inner as AttributeValue[]).map(canonical) };
  if (type === 'M') return { M: canonicalItem(inner as AttributeMap) };
  return value;
}

function canonicalItem(item: AttributeMap): unknown {
  return Object.keys(item)
    .sort()
    .map((name) => [name, canonical(item[name] as AttributeValue)]);
}

/** True when a write left the item as it was (numbers are in dynalite's canonical form already). */
export function changesNothing(change: ItemChange): boolean {
  if (!change.before || !change.after) return change.before === change.after;
  return JSON.stringify(canonicalItem(change.before)) === JSON.stringify(canonicalItem(change.after));
}

/** The key attributes of `item`, by the table's key schema. */
export function keysOf(table: TableDescription, item: AttributeMap): AttributeMap {
  return Object.fromEntries(table.KeySchema.flatMap(({ AttributeName }) => (item[AttributeName] ? [[AttributeName, item[AttributeName]]] : [])));
}

/** What a record holds of one change, before it is given its place in the stream. */
export interface RecordBody {
  readonly eventName: StreamRecordWire['eventName'];
  readonly Keys: AttributeMap;
  readonly NewImage?: AttributeMap;
  readonly OldImage?: AttributeMap;
  readonly SizeBytes: number;
}

/** The record body of a change that changed something, with the images `viewType` asks for. */
export function recordBodyOf(table: TableDescription, viewType: StreamViewType, change: ItemChange): RecordBody {
  const { before, after } = change;
  const item = (after ?? before) as AttributeMap;
  const Keys = keysOf(table, item);
  const newImage = after && (viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') ? after : undefined;
  const oldImage = before && (viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES') ? before : undefined;
  const SizeBytes = [Keys, newImage, oldImage].reduce((sum, part) => sum + (part ? dynaliteDb.itemSize(part) : 0), 0);
  return {
    eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
    Keys,
    ...(newImage ? { NewImage: newImage } : {}),
    ...(oldImage ? { OldImage: oldImage } : {}),
    SizeBytes,
  };
}
