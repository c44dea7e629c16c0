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
 *
 * The functions' log lines are printed one readable line each on a terminal, as JSON otherwise,
 * or with `--json` / `HERALD_LOG_FORMAT=json` (local/log-format.ts). A failure the user can fix (a
 * taken port, a data directory in use, a package missing) is one line and exit code 1.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configVariables } from '../shared/config.ts';
import { functionSettingsProblems } from './function-settings.ts';
import { AppError } from '../shared/errors.ts';
import { parseFaultRulesJson } from './fault-rules.ts';
import type { FaultRule } from './fault-rules.ts';
import { tokenHint } from './jwt-keys.ts';
import { assertPortsFree } from './listen.ts';
import { chooseLogFormat } from './log-format.ts';
import { startFailureLine } from './start-errors.ts';
import type { LocalStack } from './stack.ts';

const usage = `usage: npm start [-- --json]

Starts the whole of Herald on this machine (no AWS account, no Docker) and prints its URLs.

options:
  --json     print the functions' log lines as JSON (the default when stdout is not a terminal)
  --help     this text

environment:
  HERALD_HTTP_PORT (3000), HERALD_WS_PORT (3001), HERALD_SES_PORT (8005),
  HERALD_TELEGRAM_PORT (8006)   0 picks a free port
  HERALD_HOST (127.0.0.1)       the address every endpoint listens on
  HERALD_DATA_DIR               keep the data on disk there (default: in memory)
  HERALD_LOG_FORMAT             json or pretty (default: pretty on a terminal, json otherwise)
  HERALD_FAULTS, HERALD_FAULTS_SEED, HERALD_SES_MAX_SEND_RATE, HERALD_SES_MAX_24_HOUR_SEND
  HERALD_RETRY_*, POWERTOOLS_LOG_LEVEL, ...   passed on to every function
See README.md, "Run it locally".`;

const port = (fallback: number): z.ZodDefault<z.ZodCoercedNumber> => z.coerce.number().int().min(0).max(65_535).default(fallback);

const settingsSchema = z.object({
  HERALD_HTTP_PORT: port(3000),
  HERALD_WS_PORT: port(3001),
  HERALD_SES_PORT: port(8005),
  HERALD_TELEGRAM_PORT: port(8006),
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_DATA_DIR: z.string().min(1).optional(),
  HERALD_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  HERALD_FAULTS: z.string().optional(),
  HERALD_FAULTS_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
  HERALD_SES_MAX_SEND_RATE: z.coerce.number().positive().optional(),
  HERALD_SES_MAX_24_HOUR_SEND: z.coerce
    .number()
    .int()
    .refine((value) => value >= 1 || value === -1, 'must be a positive whole number of emails, or -1 for unlimited')
    .optional(),
});

/** What each variable must be, said with the value given when it is not (zod's own words name no value: "expected number, received NaN"). */
const expectedSettings: Record<keyof z.infer<typeof settingsSchema>, string> = {
  HERALD_HTTP_PORT: 'a port number, 0 to 65535 (0 picks a free one)',
  HERALD_WS_PORT: 'a port number, 0 to 65535 (0 picks a free one)',
  HERALD_SES_PORT: 'a port number, 0 to 65535 (0 picks a free one)',
  HERALD_TELEGRAM_PORT: 'a port number, 0 to 65535 (0 picks a free one)',
  HERALD_HOST: 'an address to listen on',
  HERALD_DATA_DIR: 'a directory (unset: data in memory)',
  HERALD_LOG_FORMAT: 'json or pretty',
  HERALD_FAULTS: 'the JSON array of POST /_local/faults',
  HERALD_FAULTS_SEED: 'a whole number, 0 to 4294967295',
  HERALD_SES_MAX_SEND_RATE: 'a number of emails per second above 0',
  HERALD_SES_MAX_24_HOUR_SEND: 'a positive whole number of emails, or -1 for unlimited',
};

/** One line per variable that settingsSchema refused: its name, the value given, and what it must be. */
function settingsProblems(issues: readonly z.core.$ZodIssue[], env: NodeJS.ProcessEnv): string[] {
  const names = [...new Set(issues.map((issue) => String(issue.path[0])))];
  return names.map((name) => `${name}=${JSON.stringify(env[name] ?? '')} is not ${expectedSettings[name as keyof typeof expectedSettings] ?? 'valid'}`);
}

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

/** The command line's options, or exit: 0 after `--help`, 2 for an unknown option. */
function commandLine(args: readonly string[]): { json: boolean } {
  let values: { json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], strict: true, allowPositionals: false, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return { json: values.json === true };
}

async function main(): Promise<void> {
  const options = commandLine(process.argv.slice(2));
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const line of settingsProblems(parsed.error.issues, process.env)) console.error(line);
    process.exit(2);
  }
  // The functions' own settings too: each would refuse a bad one at its cold start, after the ready line.
  const refusedByFunctions = functionSettingsProblems(functionSettings(process.env));
  if (refusedByFunctions.length > 0) {
    for (const line of refusedByFunctions) console.error(line);
    process.exit(2);
  }
  const settings = parsed.data;
  const faults = startupFaults(settings.HERALD_FAULTS);
  const dataDir = settings.HERALD_DATA_DIR ? resolve(settings.HERALD_DATA_DIR) : undefined;
  const ports = { HERALD_HTTP_PORT: settings.HERALD_HTTP_PORT, HERALD_WS_PORT: settings.HERALD_WS_PORT, HERALD_SES_PORT: settings.HERALD_SES_PORT, HERALD_TELEGRAM_PORT: settings.HERALD_TELEGRAM_PORT };
  const logFormat = chooseLogFormat({ jsonFlag: options.json, variable: settings.HERALD_LOG_FORMAT, isTerminal: process.stdout.isTTY === true });
  let stack: LocalStack;
  try {
    // Every taken port at once, before anything starts (each listen below reports its own too).
    await assertPortsFree(Object.values(ports), settings.HERALD_HOST);
    // Imported here, not above: a missing emulator package is then a failure this function explains.
    const { startLocalStack } = await import('./stack.ts');
    stack = await startLocalStack({
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
      logFormat,
    });
  } catch (error) {
    const line = startFailureLine(error, ports);
    if (line === undefined) throw error;
    console.error(line);
    process.exit(1);
  }

  // Listening before the ready line: a signal sent once it is seen always stops the stack cleanly.
  let stopping = false;
  const started = stack;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}, stopping the local stack...`);
    await started.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  console.log(
    `Herald local stack ready: HTTP API ${stack.httpUrl} | WebSocket API ${stack.wsUrl} | ` +
      `sent mail ${stack.sesUrl} | Telegram Bot API ${stack.telegramUrl} | outbox ${stack.httpUrl}/_local/outbox.html | data ${dataDir ?? 'in memory'}`,
  );
  console.log(`Console: ${stack.httpUrl}/ (local sign-in)`);
  console.log(tokenHint(stack.claimNames, stack.httpUrl));
  if (faults.length > 0) console.log(`Fault injection: ${faults.length} rule(s) from HERALD_FAULTS; see GET ${stack.httpUrl}/_local/faults`);
}

main().catch((error: unknown) => {
  console.error('The local stack could not start:', error);
  process.exit(1);
});
