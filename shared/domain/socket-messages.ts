/**
 * What WebSocket clients send, as the ws functions parse it (zod/mini: these functions make no
 * other schema). The id rules are those of the HTTP API's `inboxItemIdSchema` (`idSchema`), with
 * its messages; test/unit/shared/domain/subject-ids.test.ts holds the two equal.
 */
import * as z from '../zod-mini.ts';
import { isNotBlank, isSingleLineText, isWellFormedText, maxSubjectLength, singleLineMessage, wellFormedMessage } from './subject-ids.ts';

/** An inbox item's id: the id of the notification it holds (`idSchema`'s rules and messages). */
const inboxItemId = z.string('must be a string').check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(maxSubjectLength, `must be at most ${maxSubjectLength} characters`),
  z.refine(isWellFormedText, wellFormedMessage),
  z.refine(isSingleLineText, singleLineMessage),
  z.refine(isNotBlank, 'must not be blank'),
);

/** `{ "action": "markRead", "id" }` over the WebSocket. */
export const markReadMessageSchema = z.object({ action: z.literal('markRead'), id: inboxItemId });
