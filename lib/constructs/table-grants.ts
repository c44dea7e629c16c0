import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { HeraldTable } from './herald-tables.ts';

/** What reading a table's items takes (ConditionCheckItem: a transaction's checks are reads). */
export const tableReadActions: readonly string[] = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
];

/** What writing a table's items takes (a transaction's writes are these actions too). */
export const tableWriteActions: readonly string[] = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];

/**
 * Lets `grantee` read (or read and write) the items of a table, and query the indexes its
 * description names, each by its ARN. Unlike the Table's own `grantReadData`, which adds
 * `<table>/index/*`, no wildcard: an index added later is readable once its description says so.
 */
export function grantTableData(table: HeraldTable, grantee: IGrantable, access: 'read' | 'readWrite'): Grant {
  const { tableArn } = table.table;
  const read = Grant.addToPrincipal({
    grantee,
    actions: [...tableReadActions],
    resourceArns: [tableArn, ...table.description.indexes.map((index) => `${tableArn}/index/${index.name}`)],
  });
  if (access === 'read') return read;
  // Items are written through the table only: an index takes no write.
  return read.combine(Grant.addToPrincipal({ grantee, actions: [...tableWriteActions], resourceArns: [tableArn] }));
}
