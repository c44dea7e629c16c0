/**
 * Table descriptions as the DynamoDB endpoint needs them: whole (for validating an item against
 * the table's keys and indexes) and as key schemas (for naming the item a write locks).
 */
import { runGuarded } from './guarded-actions.ts';
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, DynaliteStore, TableDescription } from './dynalite.ts';

export class TableSchemas {
  /** Key schemas never change while a table exists, so they are kept until DeleteTable. */
  private readonly keySchemas = new Map<string, TableDescription>();
  private readonly store: DynaliteStore;

  constructor(store: DynaliteStore) {
    this.store = store;
  }

  /**
   * The table's current description; rejects with dynalite's ResourceNotFoundException when it
   * does not exist or is still being created, as the item operations answer.
   */
  describe(name: string): Promise<TableDescription> {
    return runGuarded<TableDescription>(this.store, (store, done) => store.getTable(name, done));
  }

  /** The table's description for its key schema (possibly not the latest); undefined when it does not exist. */
  async keySchema(name: string): Promise<TableDescription | undefined> {
    const known = this.keySchemas.get(name);
    if (known) return known;
    const table = await this.describe(name).catch(() => undefined);
    if (table) this.keySchemas.set(name, table);
    return table;
  }

  /** Forgets a table whose name may now name another (after DeleteTable or CreateTable). */
  forget(name: string): void {
    this.keySchemas.delete(name);
  }
}

/**
 * The lock name of the item `item` (an item or a key) of `table`: the table and dynalite's own
 * storage key, so two spellings of one number key lock the same item. Undefined when `item`
 * lacks a key attribute of the right type; the operation will refuse it anyway.
 */
export function lockKeyOf(table: TableDescription, item: AttributeMap | undefined): string | undefined {
  if (!item) return undefined;
  for (const { AttributeName } of table.KeySchema) {
    const type = table.AttributeDefinitions.find((definition) => definition.AttributeName === AttributeName)?.AttributeType;
    if (type === undefined || typeof item[AttributeName]?.[type] !== 'string') return undefined;
  }
  return `${table.TableName}\u0000${dynaliteDb.createKey(item, table)}`;
}

/** Reads the current item stored under `key` (already validated against `table`). */
export function readItem(store: DynaliteStore, table: TableDescription, key: AttributeMap): Promise<AttributeMap | undefined> {
  return runGuarded<AttributeMap | undefined>(store, (guarded, done) =>
    guarded.getItemDb(table.TableName).get(dynaliteDb.createKey(key, table), (error, item) => {
      if (error && error.name !== 'NotFoundError') done(error);
      else done(null, (item as AttributeMap | undefined) ?? undefined);
    }),
  );
}
