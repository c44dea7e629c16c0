/**
 * Templates in DynamoDB, one partition per template (`pk` = tenant#id, escaped), sorted by
 * `version`:
 * - `version` 0, the head: the latest version's number, the description, when it was created and
 *   last changed, and `tenantId` while the template exists, which puts it (alone) in the sparse
 *   `byTenant` index the listing pages through;
 * - `version` n ≥ 1: the definition of version n as JSON text, written once and never changed.
 *
 * A PUT is one transaction: the new version's item, on the condition that it does not exist, and
 * the head, on the condition that its latest is still the one read; a writer that lost the race
 * reads again. A DELETE keeps the head as a tombstone (no `tenantId`, so out of the listing) and
 * removes the versions: the numbers go on from there if the template is stored again, so a
 * notification pinned to a deleted version fails rather than meeting a different one.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TemplateDefinition, TemplateVersion } from '../domain/template.ts';
import type { TemplateStore, TemplateSummary } from '../ports.ts';
import { batchDelete } from './dynamo-batch.ts';
import { keyPart } from './dynamo-keys.ts';
import { transactWrite } from './dynamo-transact.ts';

/** The partition of a template: the tenant is part of every key. */
export function templateKey(tenantId: string, id: string, version: number): { pk: string; version: number } {
  return { pk: `${keyPart(tenantId)}#${keyPart(id)}`, version };
}

/** How many times a PUT reads again after another PUT of the same template came first. */
const putAttempts = 10;

interface HeadItem {
  readonly id: string;
  readonly latest: number;
  /** The first version of this life of the template (after a delete, the next number). */
  readonly firstVersion: number;
  readonly description?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deleted?: boolean;
}

function summaryOf(head: HeadItem): TemplateSummary {
  return {
    id: head.id,
    latestVersion: head.latest,
    ...(head.description !== undefined ? { description: head.description } : {}),
    createdAt: head.createdAt,
    updatedAt: head.updatedAt,
  };
}

function versionFromItem(tenantId: string, item: Record<string, unknown>): TemplateVersion {
  return {
    tenantId,
    id: String(item.id),
    version: Number(item.version),
    definition: JSON.parse(String(item.definitionJson)) as TemplateDefinition,
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
  };
}

/** The version a put after `head` makes, and the first one it then keeps; undefined when `maxVersions` are kept already. */
function nextVersionOf(head: HeadItem | undefined, maxVersions: number): { version: number; fresh: boolean; firstVersion: number } | undefined {
  const version = (head?.latest ?? 0) + 1;
  const fresh = !head || head.deleted === true;
  const firstVersion = fresh ? version : head.firstVersion;
  return version - firstVersion + 1 > maxVersions ? undefined : { version, fresh, firstVersion };
}

export class DynamoTemplateStore implements TemplateStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.db = db;
    this.tableName = tableName;
  }

  private async head(tenantId: string, id: string): Promise<HeadItem | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: templateKey(tenantId, id, 0), ConsistentRead: true }));
    return Item as HeadItem | undefined;
  }

  async hasRoomForVersion(tenantId: string, id: string, maxVersions: number): Promise<boolean> {
    return nextVersionOf(await this.head(tenantId, id), maxVersions) !== undefined;
  }

  async put(tenantId: string, id: string, definition: TemplateDefinition, createdBy: string, now: Date, maxVersions: number): Promise<TemplateVersion | undefined> {
    for (let attempt = 0; attempt < putAttempts; attempt++) {
      const head = await this.head(tenantId, id);
      const next = nextVersionOf(head, maxVersions);
      if (next === undefined) return undefined;
      const { version, fresh, firstVersion } = next;
      const at = now.toISOString();
      const stored: TemplateVersion = { tenantId, id, version, definition, createdAt: at, createdBy };
      const result = await transactWrite(this.db, [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...templateKey(tenantId, id, version), id, definitionJson: JSON.stringify(definition), createdAt: at, createdBy },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: templateKey(tenantId, id, 0),
            UpdateExpression: `SET tenantId = :tenant, id = :id, latest = :version, firstVersion = :first, createdAt = :created, updatedAt = :at${definition.description !== undefined ? ', description = :description' : ''} REMOVE deleted${definition.description === undefined ? ', description' : ''}`,
            ConditionExpression: head ? 'latest = :seen' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: {
              ':tenant': tenantId,
              ':id': id,
              ':version': version,
              ':first': firstVersion,
              ':created': fresh || !head ? at : head.createdAt,
              ':at': at,
              ...(definition.description !== undefined ? { ':description': definition.description } : {}),
              ...(head ? { ':seen': head.latest } : {}),
            },
          },
        },
      ]);
      if (result.ok) return stored;
    }
    throw new Error(`Template ${id} kept changing under ${putAttempts} attempts to store a version`);
  }

  async get(tenantId: string, id: string, version?: number): Promise<TemplateVersion | undefined> {
    let wanted = version;
    let firstVersion: number | undefined;
    if (wanted === undefined) {
      const head = await this.head(tenantId, id);
      if (!head || head.deleted === true) return undefined;
      wanted = head.latest;
      firstVersion = head.firstVersion;
    }
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: templateKey(tenantId, id, wanted), ConsistentRead: true }));
    if (!Item) return undefined;
    const found = versionFromItem(tenantId, Item);
    return firstVersion !== undefined ? { ...found, firstVersion } : found;
  }

  async list(tenantId: string, limit: number, after?: string): Promise<{ readonly items: readonly TemplateSummary[]; readonly last?: string }> {
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byTenant',
        KeyConditionExpression: after === undefined ? 'tenantId = :tenant' : 'tenantId = :tenant AND id > :after',
        ExpressionAttributeValues: { ':tenant': tenantId, ...(after !== undefined ? { ':after': after } : {}) },
        Limit: limit,
      }),
    );
    const items = (result.Items ?? []).map((item) => summaryOf(item as HeadItem));
    const last = result.LastEvaluatedKey && items.length > 0 ? items[items.length - 1]?.id : undefined;
    return { items, ...(last !== undefined ? { last } : {}) };
  }

  async delete(tenantId: string, id: string, now: Date): Promise<boolean> {
    const head = await this.head(tenantId, id);
    if (!head || head.deleted === true) return false;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: templateKey(tenantId, id, 0),
          UpdateExpression: 'SET deleted = :yes, updatedAt = :at REMOVE tenantId, description',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted)',
          ExpressionAttributeValues: { ':yes': true, ':at': now.toISOString() },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
    // The versions go after the tombstone: a read in between finds no latest, and a pinned read a version that is going.
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND #v > :zero',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':pk': templateKey(tenantId, id, 0).pk, ':zero': 0 },
          ProjectionExpression: 'pk, #v',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      await batchDelete(this.db, this.tableName, (page.Items ?? []) as Record<string, unknown>[]);
      start = page.LastEvaluatedKey;
    } while (start);
    return true;
  }
}
