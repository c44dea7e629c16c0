/**
 * The records of idempotent creates ({@link CreateRecord}) in the idempotency table, beside the
 * Powertools idempotency utility's own items: one item per scoped key, `id` = `create#` and the
 * SHA-256 of the key (as the utility's items hold only a hash of it), with the same TTL attribute
 * (`expiration`, epoch seconds), which DynamoDB deletes lazily: a record past it is treated as
 * absent here, as the utility does with its own.
 *
 * The first attempt of a create pays one conditional PutItem; a retry learns the record from that
 * same refused write (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), with no read
 * ("Condition expressions", DynamoDB Developer Guide).
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CreateRecord, CreateRecords } from '../ports.ts';

/** The names of a table's key and TTL attributes. */
export interface CreateRecordAttributes {
  /** The partition key (a string; the table has no sort key). */
  readonly key: string;
  /** The TTL attribute (epoch seconds). */
  readonly ttl: string;
}

/** The idempotency table's: Powertools' layout. */
const idempotencyTableAttributes: CreateRecordAttributes = { key: 'id', ttl: 'expiration' };

/** The item id of a scoped key: a hash, so no tenant or caller name is stored in the clear. */
export function createRecordId(key: string): string {
  return `create#${createHash('sha256').update(key).digest('base64url')}`;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * The condition that the stored item is still `previous`: its state, body and first id (ids are
 * new for each record, so the first names its version; scalars, as DynamoDB's `=` compares).
 */
function stillIs(previous: CreateRecord): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  return {
    ConditionExpression: 'ids[0] = :previousId AND #state = :previousState AND fingerprint = :previousFingerprint',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: { ':previousId': previous.ids[0], ':previousState': previous.state, ':previousFingerprint': previous.fingerprint },
  };
}

/**
 * The record in a refused write's item, which the document client leaves in DynamoDB's own
 * attribute values (`{ S: ... }`, `{ L: [...] }`): read by hand, as these four attributes are all
 * it needs (util-dynamodb imported here would be bundled a second time beside lib-dynamodb's).
 */
function recordOf(key: string, item: Record<string, AttributeValue>): CreateRecord {
  const text = (name: string): string => item[name]?.S ?? '';
  return {
    key,
    fingerprint: text('fingerprint'),
    ids: (item.ids?.L ?? []).map((id) => id.S ?? ''),
    createdAt: text('createdAt'),
    state: text('state') === 'rolledBack' ? 'rolledBack' : 'creating',
  };
}

export class DynamoCreateRecords implements CreateRecords {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly lifeSeconds: number;
  private readonly attributes: CreateRecordAttributes;

  /**
   * `lifeSeconds`: how long a record lives after its last write; it must cover the window in which
   * a retry is one (for an `Idempotency-Key`, the utility's `idempotencyRetentionSeconds`).
   * `attributes`: the table's key and TTL attributes. @default the idempotency table's, `id` and `expiration`
   */
  constructor(db: DynamoDBDocumentClient, tableName: string, lifeSeconds: number, attributes: CreateRecordAttributes = idempotencyTableAttributes) {
    this.db = db;
    this.tableName = tableName;
    this.lifeSeconds = lifeSeconds;
    this.attributes = attributes;
  }

  private itemOf(record: CreateRecord, now: Date): Record<string, unknown> {
    return {
      [this.attributes.key]: createRecordId(record.key),
      fingerprint: record.fingerprint,
      ids: record.ids,
      createdAt: record.createdAt,
      state: record.state,
      [this.attributes.ttl]: epochSeconds(now) + this.lifeSeconds,
    };
  }

  async put(record: CreateRecord, now: Date): Promise<CreateRecord | undefined> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.itemOf(record, now),
          // One past its life is as good as absent (TTL deletes lazily): it is overwritten.
          ConditionExpression: 'attribute_not_exists(#key) OR #ttl < :now',
          ExpressionAttributeNames: { '#key': this.attributes.key, '#ttl': this.attributes.ttl },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || !error.Item) throw error;
      return recordOf(record.key, error.Item);
    }
  }

  async replace(previous: CreateRecord, next: CreateRecord, now: Date): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.itemOf(next, now), ...stillIs(previous) }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async remove(record: CreateRecord): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { [this.attributes.key]: createRecordId(record.key) }, ...stillIs(record) }));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
