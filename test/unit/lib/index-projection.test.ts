import { describe, expect, it } from 'vitest';
import { projectionOf, tables } from '../../../lib/app-description.ts';
import type { IndexDescription } from '../../../lib/app-description.ts';

describe('projectionOf', () => {
  const index: IndexDescription = { name: 'byThing', partitionKey: { name: 'thing', type: 'S' } };

  it('gives CreateTable’s Projection: ALL by default, the attributes with INCLUDE', () => {
    expect(projectionOf(index)).toEqual({ ProjectionType: 'ALL' });
    expect(projectionOf({ ...index, projection: 'KEYS_ONLY' })).toEqual({ ProjectionType: 'KEYS_ONLY' });
    expect(projectionOf({ ...index, projection: 'INCLUDE', projectedAttributes: ['type'] })).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['type'] });
  });

  it('refuses INCLUDE without attributes, and attributes without INCLUDE', () => {
    expect(() => projectionOf({ ...index, projection: 'INCLUDE' })).toThrow('Index byThing: projectedAttributes go with INCLUDE, and INCLUDE needs them');
    expect(() => projectionOf({ ...index, projection: 'KEYS_ONLY', projectedAttributes: ['type'] })).toThrow('Index byThing');
  });

  it('holds for every index of the description', () => {
    for (const table of tables) for (const described of table.indexes) expect(() => projectionOf(described)).not.toThrow();
  });
});
