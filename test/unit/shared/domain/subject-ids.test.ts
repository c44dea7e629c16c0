/**
 * The claims' id rules as plain predicates (the WebSocket functions read claims without zod) say
 * exactly what the request schemas built on the same rules say.
 */
import { describe, expect, it } from 'vitest';
import * as mini from '../../../../shared/domain/id-schemas.ts';
import { newBroadcastId, newNotificationId, newRecurringId } from '../../../../shared/domain/ids.ts';
import { broadcastIdSchema, idSchema, inboxItemIdSchema, notificationIdSchema, recurringIdSchema, templateIdSchema, tenantIdSchema } from '../../../../shared/domain/schemas.ts';
import { markReadMessageSchema } from '../../../../shared/domain/socket-messages.ts';
import { isSubjectId, isTenantId, maxSubjectLength } from '../../../../shared/domain/subject-ids.ts';

const subjects: readonly unknown[] = [
  'alice',
  'auth0|5f7c8ec7c33c6c004bbafe82',
  'bob@example.com',
  '  padded  ',
  'x'.repeat(maxSubjectLength),
  'x'.repeat(maxSubjectLength + 1),
  '',
  '   ',
  'two\nlines',
  'tab\there',
  'line\u2028separator',
  'lone \ud800 surrogate',
  'émile',
  42,
  null,
  undefined,
  ['alice'],
];

const tenants: readonly unknown[] = ['acme', 'acme-eu.1', 'a:b+c@d_e', '-leading-dash', '', 'with space', 'x'.repeat(128), 'x'.repeat(129), 'é', 7, undefined];

describe('the id rules of token claims', () => {
  it('take a subject exactly when idSchema does', () => {
    for (const value of subjects) {
      expect({ value, accepted: isSubjectId(value) }).toEqual({ value, accepted: idSchema.safeParse(value).success });
    }
    // Not vacuous: both verdicts occur.
    expect(subjects.filter(isSubjectId).length).toBeGreaterThan(0);
    expect(subjects.filter((value) => !isSubjectId(value)).length).toBeGreaterThan(0);
  });

  it('take a tenant exactly when tenantIdSchema does', () => {
    for (const value of tenants) {
      expect({ value, accepted: isTenantId(value) }).toEqual({ value, accepted: tenantIdSchema.safeParse(value).success });
    }
    expect(tenants.filter(isTenantId).length).toBeGreaterThan(0);
    expect(tenants.filter((value) => !isTenantId(value)).length).toBeGreaterThan(0);
  });

  it("refuse a markRead message's id as inboxItemIdSchema refuses it, in the same words", () => {
    for (const id of subjects) {
      const issues = markReadMessageSchema.safeParse({ action: 'markRead', id }).error?.issues.map((issue) => issue.message);
      const expected = inboxItemIdSchema.safeParse(id).error?.issues.map((issue) => issue.message);
      expect({ id, issues }).toEqual({ id, issues: expected });
    }
  });

  it('are the same, with the same messages, in the zod/mini schemas of queue and WebSocket messages and of page cursors', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const ids: readonly unknown[] = [...subjects, ...tenants, newNotificationId(now), newBroadcastId(now), newRecurringId(now), 'ntf_0', 'brd_x', 'rec_', 'ntf_01JABCDEFGHJKMNPQRSTVWXYZ0', 'welcome.v2', '_hidden', 'a'.repeat(129), 'a'.repeat(128)];
    const pairs = [
      [mini.subjectId, idSchema],
      [mini.tenantId, tenantIdSchema],
      [mini.notificationId, notificationIdSchema],
      [mini.broadcastId, broadcastIdSchema],
      [mini.recurringId, recurringIdSchema],
      [mini.templateId, templateIdSchema],
    ] as const;
    for (const [ours, classic] of pairs) {
      for (const id of ids) {
        const issues = ours.safeParse(id).error?.issues.map((issue) => issue.message);
        expect({ id, issues }).toEqual({ id, issues: classic.safeParse(id).error?.issues.map((issue) => issue.message) });
      }
      expect(ids.some((id) => ours.safeParse(id).success)).toBe(true);
    }
  });
});
