import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitsTable, limitsTableMarkers } from '../../../shared/http/limits-table.ts';

describe('docs/limits.md', () => {
  it('holds the table made from the constants that enforce the limits (npm run docs:limits writes it)', async () => {
    // Prepare
    const text = await readFile(resolve(import.meta.dirname, '..', '..', '..', 'docs', 'limits.md'), 'utf8');

    // Act
    const written = text.slice(text.indexOf(limitsTableMarkers.begin) + limitsTableMarkers.begin.length, text.indexOf(limitsTableMarkers.end)).trim();

    // Assess
    expect(written).toBe(limitsTable());
  });
});

describe('the self-service send limits', () => {
  it("default in the functions to cdk.json's context, which the table states", async () => {
    // Prepare
    const cdkJson = JSON.parse(await readFile(resolve(import.meta.dirname, '..', '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

    // Act
    const { defaultSelfSend, defaultTenantRequestsPerSecond } = await import('../../../shared/config.ts');

    // Assess
    expect({ userPerHour: cdkJson.context['herald:selfSendUserPerHour'], tenantPerHour: cdkJson.context['herald:selfSendTenantPerHour'] }).toEqual(defaultSelfSend);
    expect(cdkJson.context['herald:tenantRequestsPerSecond']).toBe(defaultTenantRequestsPerSecond);
  });
});
