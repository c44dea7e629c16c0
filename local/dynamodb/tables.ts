/**
 * Table descriptions as the DynamoDB endpoint needs them: for validating an item against the
 * table's keys and indexes, for naming the items a request locks, and for dynalite's item
 * actions, which look their table up on every call.
 *
 * A table that is ACTIVE with every index ACTIVE only changes through CreateTable, UpdateTable
 * or DeleteTable, all of which go through this endpoint and forget it, so its description is
 * kept here and handed to the item actions instead of being read and decoded from the store
 * each time. A table in any other state is always read afresh.
 */
import { runGuarded } from './guarded-actions.ts';
import type { KeptTables } from './guarded-actions.ts';
import { dynaliteDb } from './dynalite.ts';
import type { AttributeMap, DynaliteStore, TableDescription } from './dynalite.ts';

function isSettled(table: TableDescription): boolean {
  const indexes = (table as { GlobalSecondaryIndexes?: readonly { IndexStatus?: string }[] }).GlobalSecondaryIndexes ?? [];
  return table.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE');
}

export class TableSchemas implements KeptTables {
  private readonly kept = new Map<string, TableDescription>();
  private readonly store: DynaliteStore;

  constructor(store: DynaliteStore) {
    this.store = store;
  }

  /** The kept description, if the table is settled (ACTIVE, and so are its indexes). */
  settled(name: string): TableDescription | undefined {
    return this.kept.get(name);
  }

  /** Keeps `table` if it is settled. */
  remember(table: TableDescription): void {
    if (isSettled(table)) this.kept.set(table.TableName, table);
  }

  /** Forgets a table about to change or to go (CreateTable, UpdateTable, DeleteTable). */
  forget(name: string): void {
    this.kept.delete(name);
  }

  /**
   * The table's description; rejects with dynalite's ResourceNotFoundException when it does not
   * exist or is still being created, as the item operations answer.
   */
  async describe(name: string): Promise<TableDescription> {
    const kept = this.kept.get(name);
    if (kept) return kept;
    const table = await runGuarded<TableDescription>(this.store, (store, done) => store.getTable(name, done));
    this.remember(table);
    return table;
  }

  /** The table's description for its keys; undefined when it does not exist (the operation will say so). */
  keySchema(name: string): Promise<TableDescription | undefined> | TableDescription {
    return this.kept.get(name) ?? this.describe(name).catch(() => undefined);
  }
}

/** The store option naming how long dynalite keeps a table in transition after each operation. */
const transitionOption = { CreateTable: 'createTableMs', UpdateTable: 'updateTableMs', DeleteTable: 'deleteTableMs' } as const;

/**
 * When the store moves tables through their transitions at once (the option is 0, as the local
 * endpoint runs it), resolves once the table operation `operation` on `name` has landed: the table
 * and its indexes ACTIVE, or the table gone. dynalite answers first and writes the new status a
 * timer later, so without this an item request sent right after the answer may see the table in
 * one state and then in the other (a write taken, but its stream record lost). With a delay
 * configured, resolves at once: the caller waits for ACTIVE, as on AWS.
 */
export async function transitionLanded(store: DynaliteStore, operation: keyof typeof transitionOption, name: string): Promise<void> {
  if (store.options[transitionOption[operation]] !== 0) return;
  for (let tries = 0; tries < 1_000; tries++) {
    const table = await new Promise<TableDescription | undefined>((resolve) => store.getTable(name, false, (error, found) => resolve(error ? undefined : found)));
    if (operation === 'DeleteTable' ? table === undefined : table === undefined || isSettled(table)) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * The lock name of the item `item` (an item or a key) of `table`: the table and the key's
 * values. dynalite's validations have already written numbers in their one canonical form and
 * refused binary that is not canonical base64, so one item has one name. Undefined when `item`
 * lacks a key attribute of the right type; the operation will refuse it anyway.
 */
export function lockKeyOf(table: TableDescription, item: AttributeMap | undefined): string | undefined {
  if (!item) return undefined;
  let name = table.TableName;
  for (const { AttributeName } of table.KeySchema) {
    const type = table.AttributeDefinitions.find((definition) => definition.AttributeName === AttributeName)?.AttributeType;
    const value = type === undefined ? undefined : item[AttributeName]?.[type];
    if (typeof value !== 'string') return undefined;
    name += `\u0000${value}`;
  }
  return name;
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
