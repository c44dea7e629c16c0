/** The event an EventBridge rule hands the sweep functions it runs on a schedule (zod/mini: they parse nothing else). */
import * as z from '../zod-mini.ts';

/** The EventBridge "Scheduled Event" a rule hands its target (the sweeps read only who and when). */
export const scheduledEventSchema = z.object({
  id: z.string().check(z.minLength(1)),
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  time: z.iso.datetime({ offset: true }),
  resources: z.array(z.string()),
});
export type ScheduledRuleEvent = z.infer<typeof scheduledEventSchema>;
