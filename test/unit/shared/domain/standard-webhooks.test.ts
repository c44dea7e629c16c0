import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  newWebhookSecret,
  rotateWebhookSecrets,
  signingSecrets,
  webhookHeaders,
  webhookMessageId,
  webhookSecretGraceMs,
} from '../../../../shared/domain/standard-webhooks.ts';

const now = new Date('2030-01-01T12:00:00.000Z');

describe('Standard Webhooks signatures', () => {
  it('verify with the reference library, for every secret that signed', () => {
    // Prepare
    const [a, b] = [newWebhookSecret(randomBytes), newWebhookSecret(randomBytes)] as [string, string];
    const body = JSON.stringify({ type: 'notification', data: { title: 'Ünïcode ✓' } });
    const timestamp = Math.floor(Date.now() / 1000);

    // Act
    const headers = webhookHeaders([a, b], 'msg_1', timestamp, body);

    // Assess
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(a).verify(body, headers)).toMatchObject({ type: 'notification' });
    expect(new Webhook(b).verify(body, headers)).toMatchObject({ type: 'notification' });
    expect(() => new Webhook(newWebhookSecret(randomBytes)).verify(body, headers)).toThrow();
    expect(() => new Webhook(a).verify(`${body} `, headers)).toThrow();
  });

  it('keeps the rotated-out secret signing for the grace period only', () => {
    // Prepare
    const first = rotateWebhookSecrets(undefined, 'whsec_AAAA', now);

    // Act
    const second = rotateWebhookSecrets(first, 'whsec_BBBB', now);

    // Assess
    expect(signingSecrets(first, now)).toEqual(['whsec_AAAA']);
    expect(signingSecrets(second, new Date(now.getTime() + webhookSecretGraceMs - 1))).toEqual(['whsec_BBBB', 'whsec_AAAA']);
    expect(signingSecrets(second, new Date(now.getTime() + webhookSecretGraceMs))).toEqual(['whsec_BBBB']);
  });

  it('keeps every secret a rotation retired within the day signing, so a second rotation cuts off no receiver, at most five, the oldest kept', () => {
    // Prepare: A, then B fifteen minutes later, then C: receivers may still check A
    const at = (minutes: number): Date => new Date(Date.parse('2030-01-01T12:00:00.000Z') + minutes * 60_000);
    const a = rotateWebhookSecrets(undefined, 'whsec_AAAA', at(0));
    const b = rotateWebhookSecrets(a, 'whsec_BBBB', at(15));

    // Act
    const c = rotateWebhookSecrets(b, 'whsec_CCCC', at(16));
    const many = ['whsec_DDDD', 'whsec_EEEE', 'whsec_FFFF', 'whsec_GGGG'].reduce((secrets, fresh, i) => rotateWebhookSecrets(secrets, fresh, at(17 + i)), c);

    // Assess: C signs with B and A; A stops a day after B replaced it, B a day after C did
    expect(signingSecrets(c, at(17))).toEqual(['whsec_CCCC', 'whsec_BBBB', 'whsec_AAAA']);
    expect(signingSecrets(c, new Date(at(15).getTime() + webhookSecretGraceMs))).toEqual(['whsec_CCCC', 'whsec_BBBB']);
    expect(signingSecrets(c, new Date(at(16).getTime() + webhookSecretGraceMs))).toEqual(['whsec_CCCC']);
    // Past five retired, the oldest (A, which receivers that never switched check) stays; B goes.
    expect(signingSecrets(many, at(30))).toEqual(['whsec_GGGG', 'whsec_FFFF', 'whsec_EEEE', 'whsec_DDDD', 'whsec_CCCC', 'whsec_AAAA']);
  });

  it('gives one message the same id on every attempt, and another message another', () => {
    expect(webhookMessageId('t', 'ntf_1', 'bob')).toBe(webhookMessageId('t', 'ntf_1', 'bob'));
    expect(webhookMessageId('t', 'ntf_1', 'bob')).not.toBe(webhookMessageId('t', 'ntf_1', 'carol'));
    expect(webhookMessageId('t', 'ntf_1', 'bob')).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
  });
});
