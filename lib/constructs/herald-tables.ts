import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Attribute, ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { projectionOf } from '../app-description.ts';
import type { KeyAttribute, TableDescription, TableName } from '../app-description.ts';

/** A table together with the description it was built from (its env var, its indexes). */
export interface HeraldTable {
  readonly description: TableDescription;
  readonly table: ITable;
}

/** Properties of {@link HeraldTables}. */
export interface HeraldTablesProps {
  /** The table descriptions, normally `tables` from lib/app-description.ts. */
  readonly tables: readonly TableDescription[];
  /**
   * Prefix of every physical table name (`<prefix>-<name>`).
   * @default 'herald'
   */
  readonly namePrefix?: string;
  /**
   * What CloudFormation does with a table when it leaves the stack. Tables hold every
   * notification, so the default keeps them (except when the stack's first deploy rolls back).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether DynamoDB refuses to delete a table (by anyone, not only CloudFormation) until it is turned off.
   * @default false
   */
  readonly deletionProtection?: boolean;
}

function toAttribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/** Herald's DynamoDB tables, one per description: on-demand, PITR, TTL, stream and indexes as described. */
export class HeraldTables extends Construct {
  private readonly byName: ReadonlyMap<TableName, HeraldTable>;

  constructor(scope: Construct, id: string, props: HeraldTablesProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? 'herald';
    const byName = new Map<TableName, HeraldTable>();
    for (const description of props.tables) {
      const table = new Table(this, description.name, {
        tableName: `${prefix}-${description.name}`,
        partitionKey: toAttribute(description.partitionKey),
        sortKey: description.sortKey ? toAttribute(description.sortKey) : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: description.ttlAttribute,
        // The table's StreamSpecification; a `stream` trigger reads it.
        stream: description.stream ? StreamViewType[description.stream] : undefined,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        deletionProtection: props.deletionProtection ?? false,
      });
      for (const index of description.indexes) {
        const projection = projectionOf(index);
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: toAttribute(index.partitionKey),
          sortKey: index.sortKey ? toAttribute(index.sortKey) : undefined,
          projectionType: ProjectionType[projection.ProjectionType],
          nonKeyAttributes: projection.NonKeyAttributes,
        });
      }
      byName.set(description.name, { description, table });
    }
    this.byName = byName;
  }

  /** The table of that name; throws when the description does not hold it. */
  get(name: TableName): HeraldTable {
    const found = this.byName.get(name);
    if (!found) throw new Error(`HeraldTables holds no table named ${name}`);
    return found;
  }

  /** Every table, in description order. */
  all(): readonly HeraldTable[] {
    return [...this.byName.values()];
  }
}
