/** An in-memory `SelfSendLimits`: per user and per tenant counts in hourly windows, as the DynamoDB adapter keeps them. */
import type { SelfSender, SelfSendLimits } from '../../../shared/ports.ts';

export class InMemorySelfSendLimits implements SelfSendLimits {
  private readonly used = new Map<string, number>();
  readonly limits: { userPerHour: number; tenantPerHour: number };

  constructor(limits: Partial<{ userPerHour: number; tenantPerHour: number }> = {}) {
    this.limits = { userPerHour: limits.userPerHour ?? 1_000, tenantPerHour: limits.tenantPerHour ?? 10_000 };
  }

  async check(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }> {
    const window = Math.floor(now.getTime() / 3_600_000);
    const full = [
      [`u:${sender.tenantId}:${sender.sub}:${window}`, this.limits.userPerHour],
      [`t:${sender.tenantId}:${window}`, this.limits.tenantPerHour],
    ].some(([key, capacity]) => (this.used.get(String(key)) ?? 0) + count > Number(capacity));
    return full ? { ok: false, retryAfterSeconds: Math.ceil(((window + 1) * 3_600_000 - now.getTime()) / 1000) } : { ok: true };
  }

  async take(sender: SelfSender, count: number, now: Date): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }> {
    const window = Math.floor(now.getTime() / 3_600_000);
    const scopes: [string, number][] = [
      [`u:${sender.tenantId}:${sender.sub}:${window}`, this.limits.userPerHour],
      [`t:${sender.tenantId}:${window}`, this.limits.tenantPerHour],
    ];
    if (scopes.some(([key, capacity]) => (this.used.get(key) ?? 0) + count > capacity)) {
      return { ok: false, retryAfterSeconds: Math.ceil(((window + 1) * 3_600_000 - now.getTime()) / 1000) };
    }
    for (const [key] of scopes) this.used.set(key, (this.used.get(key) ?? 0) + count);
    return { ok: true };
  }
}
