/** A Mailer that records what it sent and fails when told to. */
import type { Mailer } from '../../../shared/ports.ts';
import { ScriptedFailures } from './failures.ts';

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly tags?: readonly { readonly name: string; readonly value: string }[];
  readonly html?: string;
}

export class FakeMailer implements Mailer {
  readonly sent: Email[] = [];
  /** Errors the next sends throw (nothing is sent then). */
  readonly failures = new ScriptedFailures();
  /** Runs during each send, before the outcome: lets a test act "while the email is on its way". */
  onSend?: (email: Email) => Promise<void> | void;
  sendCalls = 0;

  /** Runs `beforeSend` once, as the one attempt of a provider that never throttles. */
  async send(email: Email, options: { readonly beforeSend?: () => void } = {}): Promise<{ messageId: string }> {
    this.sendCalls++;
    options.beforeSend?.();
    await this.onSend?.(email);
    this.failures.throwNext();
    this.sent.push({ ...email });
    return { messageId: `fake-${this.sent.length}` };
  }
}
