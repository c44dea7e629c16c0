/**
 * The functions' own settings as `npm start` is given them (`HERALD_RETRY_*`, `HERALD_STUCK_*`,
 * the send budgets...: shared/config.ts's `configVariables`), checked before the stack starts.
 * Each function reads its settings at its cold start and refuses them there; without this, a
 * stack with `HERALD_RETRY_BASE_SECONDS=-5` printed its ready line, then failed every delivery.
 */
import type * as z from '../shared/zod-mini.ts';
import * as config from '../shared/config.ts';
import { ConfigError } from '../shared/config.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Every reader of shared/config.ts that a setting of `npm start` reaches (the infrastructure's names and URLs are the stack's own). */
const readers: readonly ((env: Env) => unknown)[] = [
  config.broadcastConfig,
  config.claimsConfig,
  config.cleanupConfig,
  config.deliveryConfig,
  config.engineConfig,
  config.pushConfig,
  config.readInboxRetentionDays,
  config.retryPolicyConfig,
  config.schedulerConfig,
  (env) => config.sdkTimeoutsConfig({ connectionTimeoutMs: 1_000, requestTimeoutMs: 1_000 }, env),
  config.selfSendConfig,
  config.sendBudgetsConfig,
  config.stuckRetryConfig,
  config.telegramConfig,
  config.tenantRequestsPerSecond,
  config.tokenConfig,
  config.webhookTargetsConfig,
];

/**
 * One line per function setting in `given` that a function would refuse: `NAME="value" is not
 * valid: <why>`. A variable `given` does not set (a table name, a queue URL: the stack gives those)
 * is not this check's business.
 */
export function functionSettingsProblems(given: Env): string[] {
  const problems = new Map<string, string>();
  for (const read of readers) {
    try {
      read(given);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const issues = (error.cause as z.core.$ZodError | undefined)?.issues ?? [];
      for (const issue of issues) {
        const name = String(issue.path[0]);
        if (given[name] !== undefined && !problems.has(name)) problems.set(name, `${name}=${JSON.stringify(given[name])} is not valid for the functions: ${issue.message}`);
      }
    }
  }
  return [...problems.values()];
}
