/**
 * `npm start`: the whole of Herald on this machine, no AWS account, no Docker.
 * Ports come from HERALD_HTTP_PORT / HERALD_WS_PORT / HERALD_SES_PORT / HERALD_TELEGRAM_PORT (0
 * picks a free one);
 * HERALD_DATA_DIR keeps the data on disk so it survives a restart; HERALD_FAULTS holds fault rules
 * (the JSON array of `POST /_local/faults`) in force from the start, HERALD_FAULTS_SEED seeds them.
 * HERALD_SES_MAX_SEND_RATE (emails per second) and HERALD_SES_MAX_24_HOUR_SEND (emails per rolling
 * 24 hours, -1 for unlimited) set the local SES account's quotas, which `GetSendQuota` answers and
 * every send is held to (defaults 1,000 and 1,000,000: nothing throttles unless asked).
 * The functions' settings (`HERALD_RETRY_BASE_SECONDS`, `HERALD_STUCK_AFTER_SECONDS`, ...) and
 * Powertools' (`POWERTOOLS_LOG_LEVEL`, ...) given here are passed on to every function: nothing
 * else of this process's environment reaches them.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { configVariables } from '../shared/config.ts';
import { AppError } from '../shared/errors.ts';
import { parseFaultRulesJson } from './fault-rules.ts';
import type { FaultRule } from './fault-rules.ts';
import { startLocalStack } from './stack.ts';

const port = (fallback: number): z.ZodDefault<z.ZodCoercedNumber> => z.coerce.number().int().min(0).max(65_535).default(fallback);

const settingsSchema = z.object({
  HERALD_HTTP_PORT: port(3000),
  HERALD_WS_PORT: port(3001),
  HERALD_SES_PORT: port(8005),
  HERALD_TELEGRAM_PORT: port(8006),
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_DATA_DIR: z.string().min(1).optional(),
  HERALD_FAULTS: z.string().optional(),
  HERALD_FAULTS_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
  HERALD_SES_MAX_SEND_RATE: z.coerce.number().positive().optional(),
  HERALD_SES_MAX_24_HOUR_SEND: z.coerce
    .number()
    .int()
    .refine((value) => value >= 1 || value === -1, 'must be a positive whole number of emails, or -1 for unlimited')
    .optional(),
});

/** The start-up fault rules, or exit 2 saying what is wrong with them. */
function startupFaults(text: string | undefined): FaultRule[] {
  if (text === undefined || text.trim() === '') return [];
  try {
    return parseFaultRulesJson(text);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    console.error(`HERALD_FAULTS: ${error.message}`);
    process.exit(2);
  }
}

const functionSettingNames = new Set<string>(Object.values(configVariables));

/** The variables of this environment that configure the functions: Herald's settings and Powertools'. */
function functionSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (functionSettingNames.has(entry[0]) || entry[0].startsWith('POWERTOOLS_')),
    ),
  );
}

async function main(): Promise<void> {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${issue.path.join('.')}: ${issue.message}`);
    process.exit(2);
  }
  const settings = parsed.data;
  const faults = startupFaults(settings.HERALD_FAULTS);
  const dataDir = settings.HERALD_DATA_DIR ? resolve(settings.HERALD_DATA_DIR) : undefined;
  const stack = await startLocalStack({
    httpPort: settings.HERALD_HTTP_PORT,
    wsPort: settings.HERALD_WS_PORT,
    sesPort: settings.HERALD_SES_PORT,
    telegramPort: settings.HERALD_TELEGRAM_PORT,
    host: settings.HERALD_HOST,
    ...(dataDir ? { dataDir } : {}),
    faults,
    environment: functionSettings(process.env),
    ...(settings.HERALD_FAULTS_SEED !== undefined ? { faultSeed: settings.HERALD_FAULTS_SEED } : {}),
    ...(settings.HERALD_SES_MAX_SEND_RATE !== undefined ? { sesMaxSendRate: settings.HERALD_SES_MAX_SEND_RATE } : {}),
    ...(settings.HERALD_SES_MAX_24_HOUR_SEND !== undefined ? { sesMax24HourSend: settings.HERALD_SES_MAX_24_HOUR_SEND } : {}),
  });

  console.log(
    `Herald local stack ready: HTTP API ${stack.httpUrl} | WebSocket API ${stack.wsUrl} | ` +
      `sent mail ${stack.sesUrl} | Telegram Bot API ${stack.telegramUrl} | outbox ${stack.httpUrl}/_local/outbox.html | data ${dataDir ?? 'in memory'}`,
  );
  console.log(`Get a token with: npm run token -- --sub alice --role admin`);
  if (faults.length > 0) console.log(`Fault injection: ${faults.length} rule(s) from HERALD_FAULTS; see GET ${stack.httpUrl}/_local/faults`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}, stopping the local stack...`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('The local stack could not start:', error);
  process.exit(1);
});
