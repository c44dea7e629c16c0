/**
 * The ids of queue and WebSocket messages as zod/mini schemas (shared/zod-mini.ts), for the
 * functions that parse only those, and of the page cursors (which `fanout` loads with the use
 * cases it runs). Same rules and messages as schemas.ts's classic `idSchema`, `tenantIdSchema`,
 * `notificationIdSchema`, `broadcastIdSchema`, `recurringIdSchema` and `templateIdSchema`;
 * test/unit/shared/domain/subject-ids.test.ts holds them equal.
 */
import * as z from '../zod-mini.ts';
import { broadcastIdPattern, notificationIdPattern, recurringIdPattern } from './ids.ts';
import { templateIdMessage, templateIdPattern } from './template.ts';
import {
  isNotBlank,
  isSingleLineText,
  isWellFormedText,
  maxSubjectLength,
  nameLikeId,
  nameLikeMessage,
  singleLineMessage,
  wellFormedMessage,
} from './subject-ids.ts';

/** A user, recipient or inbox item id (`idSchema`). */
export const subjectId = z.string('must be a string').check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(maxSubjectLength, `must be at most ${maxSubjectLength} characters`),
  z.refine(isWellFormedText, wellFormedMessage),
  z.refine(isSingleLineText, singleLineMessage),
  z.refine(isNotBlank, 'must not be blank'),
);
/** A tenant id (`tenantIdSchema`). */
export const tenantId = z.string('must be a string').check(z.regex(nameLikeId, nameLikeMessage));
/** `ntf_…` (`notificationIdSchema`). */
export const notificationId = z.string().check(z.regex(notificationIdPattern, 'is not a notification id'));
/** `brd_…` (`broadcastIdSchema`). */
export const broadcastId = z.string().check(z.regex(broadcastIdPattern, 'is not a broadcast id'));
/** `rec_…` (`recurringIdSchema`). */
export const recurringId = z.string().check(z.regex(recurringIdPattern, 'is not a recurring notification id'));
/** A template id (`templateIdSchema`). */
export const templateId = z.string('must be a string').check(z.regex(templateIdPattern, templateIdMessage));
