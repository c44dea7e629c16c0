import { describe, expect, it } from 'vitest';
import { emailTags, feedbackFrom, maxTagValueLength, sesFeedbackEventSchema } from '../../../../shared/domain/email-feedback.ts';
import { maxSubjectLength } from '../../../../shared/domain/subject-ids.ts';
import type { EmailFeedback } from '../../../../shared/domain/email-feedback.ts';
import { ForbiddenError, NotFoundError } from '../../../../shared/errors.ts';
import { liftEmailSuppression, listEmailSuppressions, recordEmailFeedback } from '../../../../shared/use-cases/email-suppressions.ts';
import { FakeClock } from '../../fakes/clock.ts';
import { admin, aRecipient, sender, tenantId } from '../../fakes/fixtures.ts';
import { InMemoryRecipientStore } from '../../fakes/recipient-store.ts';

/** An SES bounce or complaint event on EventBridge, as SES publishes it, for `recipientId`. */
function anEvent(kind: 'Bounce' | 'Complaint', address: string, recipientId: string, bounceType = 'Permanent'): unknown {
  const tags = Object.fromEntries(emailTags(tenantId, recipientId).map((tag) => [tag.name, [tag.value]]));
  return {
    source: 'aws.ses',
    'detail-type': kind === 'Bounce' ? 'Email Bounced' : 'Email Complaint Received',
    detail: {
      eventType: kind,
      ...(kind === 'Bounce'
        ? { bounce: { bounceType, bouncedRecipients: [{ emailAddress: address }], timestamp: '2030-01-01T12:00:01.000Z' } }
        : { complaint: { complainedRecipients: [{ emailAddress: address }], timestamp: '2030-01-01T12:00:02.000Z' } }),
      mail: { messageId: 'm-1', tags: { 'ses:configuration-set': ['herald'], ...tags } },
    },
  };
}

function feedbackOf(event: unknown): EmailFeedback {
  return feedbackFrom(sesFeedbackEventSchema.parse(event));
}

function aWorld(): { recipients: InMemoryRecipientStore; clock: FakeClock } {
  return { recipients: new InMemoryRecipientStore(), clock: new FakeClock() };
}

describe('reading what SES reports back', () => {
  it('finds the recipient of any id through the tags Herald put on the send', () => {
    // Act
    const feedback = feedbackOf(anEvent('Bounce', 'x@example.com', 'auth0|a#b%c é'));

    // Assess
    expect(feedback).toEqual({ tenantId, recipientId: 'auth0|a#b%c é', addresses: ['x@example.com'], suppression: { reason: 'bounce', at: '2030-01-01T12:00:01.000Z' } });
    for (const tag of emailTags(tenantId, 'auth0|a#b%c é')) expect(tag.value).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['ASCII', 'a'.repeat(maxSubjectLength)],
    ['Cyrillic', 'я'.repeat(maxSubjectLength)],
    ['4-byte characters', '😀'.repeat(maxSubjectLength / 2)],
    ['just over one tag', 'b'.repeat(193)],
  ])('puts the longest ids (%s) in tags SES takes, and reads them back', (_case, recipientId) => {
    // Act
    const tags = emailTags(tenantId, recipientId);
    const feedback = feedbackOf(anEvent('Complaint', 'x@example.com', recipientId));

    // Assess: every value within SES's 256 characters of its alphabet, and the id whole again
    for (const tag of tags) expect(tag.value).toMatch(new RegExp(`^[A-Za-z0-9_-]{1,${maxTagValueLength}}$`));
    expect(tags.length).toBeGreaterThan(2);
    expect(feedback).toMatchObject({ tenantId, recipientId });
  });

  it.each([
    ['a transient bounce', anEvent('Bounce', 'x@example.com', 'bob', 'Transient')],
    ['an e-mail without Herald tags', { source: 'aws.ses', detail: { eventType: 'Complaint', complaint: { complainedRecipients: [], timestamp: 'x' }, mail: { messageId: 'm' } } }],
  ])('suppresses nothing for %s', (_case, event) => {
    // Act
    const feedback = feedbackOf(event);

    // Assess
    expect(feedback).toHaveProperty('ignore');
  });
});

describe('recording a bounce or complaint', () => {
  it('marks the recipient’s address suppressed, once', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'bob', email: 'Bob@Example.com' }));

    // Act
    const outcomes = [await recordEmailFeedback(world, feedbackOf(anEvent('Complaint', 'bob@example.com', 'bob'))), await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'bob@example.com', 'bob')))];

    // Assess
    expect(outcomes).toEqual(['suppressed', 'already suppressed']);
    expect((await world.recipients.get(tenantId, 'bob'))?.emailSuppression).toEqual({ address: 'Bob@Example.com', reason: 'complaint', at: '2030-01-01T12:00:02.000Z' });
  });

  it('ignores a report about an address the recipient no longer has, or a recipient gone', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'bob', email: 'new@example.com' }));

    // Act
    const outcomes = [
      await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'old@example.com', 'bob'))),
      await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'old@example.com', 'nobody'))),
    ];

    // Assess
    expect(outcomes).toEqual(['ignored', 'ignored']);
    expect((await world.recipients.get(tenantId, 'bob'))?.emailSuppression).toBeUndefined();
  });

  it('writes again when another write of the recipient came first', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com', groups: [] }));
    world.recipients.savesToLose = 2;

    // Act
    const outcome = await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'bob@example.com', 'bob')));

    // Assess
    expect(outcome).toBe('suppressed');
  });
});

describe('listing and lifting suppressions', () => {
  it('lists the suppressed recipients to an admin, lifts one, and keeps a new address clean', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));
    await world.recipients.put(aRecipient({ id: 'carol', email: 'carol@example.com' }));
    await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'bob@example.com', 'bob')));
    await recordEmailFeedback(world, feedbackOf(anEvent('Bounce', 'carol@example.com', 'carol')));

    // Act
    const before = await listEmailSuppressions(world, admin, { limit: 1 });
    const lifted = await liftEmailSuppression(world, admin, 'bob');
    const after = await listEmailSuppressions(world, admin, { limit: 10 });

    // Assess
    expect(before.items.map((item) => item.id)).toEqual(['bob']);
    expect(before.nextCursor).not.toBeNull();
    expect(lifted.emailSuppression).toBeUndefined();
    expect(after.items.map((item) => item.id)).toEqual(['carol']);
  });

  it('refuses non-admins, answers 404 where nothing is suppressed, and 400 for a foreign cursor', async () => {
    // Prepare
    const world = aWorld();
    await world.recipients.put(aRecipient({ id: 'bob', email: 'bob@example.com' }));

    // Act
    const results = await Promise.allSettled([
      listEmailSuppressions(world, sender, { limit: 10 }),
      liftEmailSuppression(world, sender, 'bob'),
      liftEmailSuppression(world, admin, 'bob'),
      listEmailSuppressions(world, admin, { limit: 10, cursor: 'bm90LWEtY3Vyc29y' }),
    ]);

    // Assess
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).constructor.name : 'fulfilled'));
    expect(reasons).toEqual([ForbiddenError.name, ForbiddenError.name, NotFoundError.name, 'ValidationError']);
  });
});
