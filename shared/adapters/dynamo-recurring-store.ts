/**
 * Recurring notifications in DynamoDB (the `recurring` table): the definition at
 * `tenant#rec_id` (with `tenantId` and `id`, so the `byTenant` index lists it), and one marker per
 * occurrence at `tenant#rec_id#<instant>` (without them: never listed), put only if absent, so an
 * occurrence fired twice is created once, and one at `tenant#rec_id#deleted` when it is deleted.
 * `data` is stored as JSON text, as on notifications.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keptOccurrences } from '../domain/recurring.ts';
import type { RecurringNotification, RecurringOccurrence } from '../domain/recurring.ts';
import type { OccurrenceClaim, RecurringPage, RecurringStore } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';
import { dataFromAttributes, dataToAttributes } from './dynamo-opaque-json.ts';

/** How long an occurrence's marker is kept (its TTL). */
export const markerRetentionSeconds = 30 * 24 * 60 * 60;
/** How long a claim on an occurrence holds before a retry may take it over (ms). */
const occurrenceLeaseMs = 60_000;

function definitionKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}` };
}

function markerKey(tenantId: string, id: string, at: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}#${at}` };
}

function deletionKey(tenantId: string, id: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}#${id}#deleted` };
}

/** How often `recordOccurrence` reads the definition again when another write of its occurrences came first. */
const occurrenceWriteAttempts = 5;

function fromItem(item: Record<string, unknown>): RecurringNotification {
  const { pk: _pk, occurrencesVersion: _version, ...stored } = item;
  const { data, rest } = dataFromAttributes(stored);
  return { ...(rest as unknown as RecurringNotification), ...(data !== undefined ? { data } : {}) };
}

function toItem(r: RecurringNotification): Record<string, unknown> {
  const { data, ...rest } = r;
  return { ...definitionKey(r.tenantId, r.id), ...rest, ...dataToAttributes(data) };
}

export class DynamoRecurringStore implements RecurringStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: () => string;

  constructor(db: DynamoDBDocumentClient, tableName: () => string) {
    this.db = db;
    this.tableName = tableName;
  }

  async put(r: RecurringNotification): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName(), Item: toItem(r) }));
  }

  async update(r: RecurringNotification): Promise<boolean> {
    const { pk: _pk, occurrences: _occurrences, ...fields } = toItem(r);
    const names = Object.keys(fields);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName(),
          Key: definitionKey(r.tenantId, r.id),
          UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#f${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:f${i}`, fields[name]])),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(tenantId: string, id: string): Promise<RecurringNotification | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName(), Key: definitionKey(tenantId, id), ConsistentRead: true }));
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.send(new DeleteCommand({ TableName: this.tableName(), Key: definitionKey(tenantId, id), ReturnValues: 'ALL_OLD' }));
    return result.Attributes !== undefined;
  }

  async markDeleted(tenantId: string, id: string, at: Date): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName(), Item: { ...deletionKey(tenantId, id), deletedAt: at.toISOString(), expiresAt: Math.floor(at.getTime() / 1000) + markerRetentionSeconds } }),
    );
  }

  async unmarkDeleted(tenantId: string, id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName(), Key: deletionKey(tenantId, id) }));
  }

  async deletedAt(tenantId: string, id: string): Promise<string | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName(), Key: deletionKey(tenantId, id), ConsistentRead: true }));
    return typeof result.Item?.deletedAt === 'string' ? result.Item.deletedAt : undefined;
  }

  async list(tenantId: string, limit: number, after?: string): Promise<RecurringPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName(),
        IndexName: 'byTenant',
        KeyConditionExpression: after === undefined ? 'tenantId = :t' : 'tenantId = :t AND id > :after',
        ExpressionAttributeValues: { ':t': tenantId, ...(after === undefined ? {} : { ':after': after }) },
        Limit: limit,
      }),
    );
    const items = (page.Items ?? []).map(fromItem);
    const last = items.at(-1);
    return { items, ...(page.LastEvaluatedKey && last ? { after: last.id } : {}) };
  }

  async claimOccurrence(tenantId: string, id: string, at: string, now: Date): Promise<OccurrenceClaim> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName(),
          Item: { ...markerKey(tenantId, id, at), state: 'creating', leaseUntil: now.getTime() + occurrenceLeaseMs, expiresAt: Math.floor(now.getTime() / 1000) + markerRetentionSeconds },
          // Absent, or a claim whose holder died (its lease ran out) before it finished.
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :creating AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':creating': 'creating', ':now': now.getTime() },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const marker = await this.db.send(new GetCommand({ TableName: this.tableName(), Key: markerKey(tenantId, id, at), ConsistentRead: true }));
      if (marker.Item?.state !== 'created') return 'busy';
      // Created: its marker holds what it created, which the definition's list may have missed (the
      // list's write failed after the marker's): the repeat puts it there.
      const occurrence = marker.Item.occurrence as RecurringOccurrence | undefined;
      if (occurrence) await this.keepOnList(tenantId, id, occurrence);
      return 'done';
    }
  }

  async recordOccurrence(tenantId: string, id: string, occurrence: RecurringOccurrence): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName(),
        Key: markerKey(tenantId, id, occurrence.at),
        UpdateExpression: 'SET #state = :created, occurrence = :occurrence REMOVE leaseUntil',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':created': 'created', ':occurrence': occurrence },
      }),
    );
    await this.keepOnList(tenantId, id, occurrence);
  }

  /**
   * Puts `occurrence` on its definition's list of last occurrences, unless it is there already.
   * The list is read, changed and written back under a version, so that two occurrences recorded
   * at once (or a slow one and the next) both stay on it. @throws after {@link occurrenceWriteAttempts} conflicts
   */
  private async keepOnList(tenantId: string, id: string, occurrence: RecurringOccurrence): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const read = await this.db.send(new GetCommand({ TableName: this.tableName(), Key: definitionKey(tenantId, id), ConsistentRead: true }));
      if (!read.Item) return; // Removed meanwhile: nothing to record on.
      const version = typeof read.Item.occurrencesVersion === 'number' ? read.Item.occurrencesVersion : undefined;
      const current = fromItem(read.Item);
      if (current.occurrences.some((o) => o.at === occurrence.at)) return;
      const occurrences = [occurrence, ...current.occurrences.filter((o) => o.at !== occurrence.at)].sort((a, b) => b.at.localeCompare(a.at)).slice(0, keptOccurrences);
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName(),
            Key: definitionKey(tenantId, id),
            UpdateExpression: 'SET occurrences = :occurrences, occurrencesVersion = :next',
            ConditionExpression: version === undefined ? 'attribute_exists(pk) AND attribute_not_exists(occurrencesVersion)' : 'occurrencesVersion = :version',
            ExpressionAttributeValues: { ':occurrences': occurrences, ':next': (version ?? 0) + 1, ...(version === undefined ? {} : { ':version': version }) },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt === occurrenceWriteAttempts) throw error;
      }
    }
  }
}
