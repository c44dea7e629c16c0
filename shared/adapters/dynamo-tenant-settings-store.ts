/**
 * A tenant's settings of time in DynamoDB: one item in the directory (recipients) table, keyed
 * `tenant##settings`. No recipient can have that key (a recipient's id is escaped, so its key has
 * exactly one `#`), and the item has no `tenantId`/`id`, so the `byTenant` index (the directory
 * listing) never shows it. Living beside the recipients, it is read in the same BatchGetItem as
 * they are when a batch is delivered, and every function that reads the directory may read it.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { noTenantSettings } from '../domain/tenant-settings.ts';
import type { TenantSettings } from '../domain/tenant-settings.ts';
import type { TenantSettingsStore } from '../ports.ts';
import { keyPart } from './dynamo-keys.ts';

/** The key of a tenant's settings item in the recipients table. */
export function tenantSettingsKey(tenantId: string): { pk: string } {
  return { pk: `${keyPart(tenantId)}##settings` };
}

/** True when a recipients-table item is a tenant's settings, not a recipient. */
export function isTenantSettingsItem(item: Record<string, unknown>): boolean {
  return typeof item.pk === 'string' && item.pk.endsWith('##settings') && item.settingsOf !== undefined;
}

/** The settings an item holds, and the tenant they are of. */
export function tenantSettingsFromItem(item: Record<string, unknown>): { tenantId: string; settings: TenantSettings } {
  const settings: TenantSettings = {
    ...(typeof item.defaultTimezone === 'string' ? { defaultTimezone: item.defaultTimezone } : {}),
    ...(item.quietHours && typeof item.quietHours === 'object' ? { quietHours: item.quietHours as TenantSettings['quietHours'] & object } : {}),
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
  };
  return { tenantId: String(item.settingsOf), settings };
}

export class DynamoTenantSettingsStore implements TenantSettingsStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly tableName: () => string;

  constructor(db: DynamoDBDocumentClient, tableName: () => string) {
    this.db = db;
    this.tableName = tableName;
  }

  async get(tenantId: string): Promise<TenantSettings> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName(), Key: tenantSettingsKey(tenantId), ConsistentRead: true }));
    return result.Item ? tenantSettingsFromItem(result.Item).settings : noTenantSettings;
  }

  async put(tenantId: string, settings: TenantSettings): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName(), Item: { ...tenantSettingsKey(tenantId), settingsOf: tenantId, ...settings } }));
  }
}
