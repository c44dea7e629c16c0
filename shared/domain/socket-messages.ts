/** What WebSocket clients send, as the ws functions parse it (zod/mini: these functions make no other schema). */
import * as z from '../zod-mini.ts';
import { subjectId } from './id-schemas.ts';

/** `{ "action": "markRead", "id" }` over the WebSocket (the id as `inboxItemIdSchema` takes it). */
export const markReadMessageSchema = z.object({ action: z.literal('markRead'), id: subjectId });
