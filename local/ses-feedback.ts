/**
 * Bounces and complaints for the local stack, as SES's mailbox simulator makes them: an e-mail to
 * `bounce@simulator.amazonses.com` bounces (permanently, "550 5.1.1 user unknown"), one to
 * `complaint@simulator.amazonses.com` draws a complaint ("Using the mailbox simulator", SES
 * Developer Guide; a `+label` before the `@` is allowed). A send that names the local
 * configuration set then publishes the event SES publishes to EventBridge ("Contents of event
 * data that Amazon SES publishes", detail-types `Email Bounced` and `Email Complaint Received`),
 * which the local stack puts on the queue an EventBridge rule feeds on AWS.
 *
 * Not emulated: real mailboxes never bounce locally; the simulator's other addresses (`success`,
 * `ooto`, `suppressionlist`) are delivered plainly; SES's account-level suppression list.
 */
import { randomUUID } from 'node:crypto';

/** The configuration set the local functions name on every e-mail. */
export const localEmailConfigurationSet = 'herald-local-feedback';

/** An e-mail the local SES accepted, with what its feedback needs. */
export interface AcceptedEmail {
  readonly messageId: string;
  readonly source: string;
  readonly destinations: readonly string[];
  /** The message tags the send carried (name → value). */
  readonly tags: Readonly<Record<string, string>>;
  readonly configurationSet?: string;
  /** Epoch ms. */
  readonly at: number;
}

/** What the mailbox simulator does with mail to `address`, if it is one of its addresses that reports back. */
export function simulatedOutcome(address: string): 'bounce' | 'complaint' | undefined {
  const match = /^(bounce|complaint)(\+[^@]*)?@simulator\.amazonses\.com$/i.exec(address.trim());
  return match ? (match[1]?.toLowerCase() as 'bounce' | 'complaint') : undefined;
}

/**
 * The EventBridge events SES publishes for `email` (one per simulated bounce or complaint; none
 * when it names another configuration set, or none, or went to no simulator address).
 */
export function feedbackEventsFor(email: AcceptedEmail, where: { readonly region: string; readonly accountId: string }): Record<string, unknown>[] {
  if (email.configurationSet !== localEmailConfigurationSet) return [];
  const time = new Date(email.at + 1).toISOString();
  const mail = {
    timestamp: new Date(email.at).toISOString(),
    source: email.source,
    sourceArn: `arn:aws:ses:${where.region}:${where.accountId}:identity/${email.source.split('@')[1] ?? email.source}`,
    sendingAccountId: where.accountId,
    messageId: email.messageId,
    destination: [...email.destinations],
    headersTruncated: false,
    tags: {
      'ses:configuration-set': [email.configurationSet],
      'ses:operation': ['SendEmail'],
      'ses:source-ip': ['127.0.0.1'],
      ...Object.fromEntries(Object.entries(email.tags).map(([name, value]) => [name, [value]])),
    },
  };
  return email.destinations.flatMap((address) => {
    const outcome = simulatedOutcome(address);
    if (!outcome) return [];
    const detail =
      outcome === 'bounce'
        ? {
            eventType: 'Bounce',
            bounce: {
              feedbackId: randomUUID(),
              bounceType: 'Permanent',
              bounceSubType: 'General',
              bouncedRecipients: [{ emailAddress: address, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
              timestamp: time,
              reportingMTA: 'dns; amazonses.com',
            },
            mail,
          }
        : {
            eventType: 'Complaint',
            complaint: {
              feedbackId: randomUUID(),
              complainedRecipients: [{ emailAddress: address }],
              timestamp: time,
              userAgent: 'Amazon SES Mailbox Simulator',
              complaintFeedbackType: 'abuse',
              arrivalDate: time,
            },
            mail,
          };
    return [
      {
        version: '0',
        id: randomUUID(),
        'detail-type': outcome === 'bounce' ? 'Email Bounced' : 'Email Complaint Received',
        source: 'aws.ses',
        account: where.accountId,
        time,
        region: where.region,
        resources: [`arn:aws:ses:${where.region}:${where.accountId}:configuration-set/${email.configurationSet}`],
        detail,
      },
    ];
  });
}
