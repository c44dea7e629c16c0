/**
 * `npm run bench -- bundles [--runs 7]`: every function's bundle as the CDK builds it, and how long
 * it takes to load.
 *
 * Bundles each function of the app description through {@link HeraldFunction} itself (a CDK app in
 * this process, esbuild run locally exactly as `cdk synth` runs it), then prints per function:
 * - what its cold start loads (`index.mjs` and the chunks it imports statically), the whole package
 *   (with the chunks `import()` loads on first use), gzipped, and its source maps;
 * - its module init: the time to import the bundle in a fresh Node process, with the functions'
 *   `NODE_OPTIONS` (source maps on) and no compile cache, as a Lambda cold start loads it; the
 *   median of `--runs` processes.
 * The reference, measured in the same processes and the same run: how long Node itself takes to
 * start (process start to the first line of the script), and an empty ES module's init. The ratio
 * is init ÷ Node's start. Functions over 300 KB or 100 ms are marked.
 * Then, in the same process, every chunk left for first use is imported too: the `all loaded`
 * column, the most a cold start followed by every lazy path costs.
 * Figures only: nothing here passes or fails on speed.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esModuleLexer from 'es-module-lexer';
import { App, Stack } from 'aws-cdk-lib';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { functions } from '../../lib/app-description.ts';
import { HeraldFunction, heraldNodeOptions, repositoryRoot } from '../../lib/constructs/herald-function.ts';
import { number, numberOption } from './format.ts';

/** How to call the bundles benchmark. */
export const bundlesUsage = 'npm run bench -- bundles [--runs 7]';

/**
 * The targets of issue 8, marked in the table. The size is asserted by test/infra/bundle-size.test.ts
 * (a bundle's size is deterministic); init time never is.
 */
export const sizeTargetBytes = 300 * 1024;
const initTargetMs = 100;

interface Bundle extends BuiltBundle {
  /** What a cold start loads: `index.mjs` and the chunks it imports statically (bytes). */
  readonly bytes: number;
  /** The modules left for first use: the package's chunks a cold start does not load. */
  readonly lazyModules: readonly string[];
  /** Every module of the package, the chunks loaded on first use included. */
  readonly packageBytes: number;
  /** The package's modules gzipped, each on its own (what the deployment package carries). */
  readonly gzipBytes: number;
  readonly mapBytes: number;
}

/** One import in a fresh process: how long Node took to start, the import took, and the import with every chunk after it (ms). */
interface Load {
  readonly startMs: number;
  readonly initMs: number;
  readonly allMs: number;
}

/** A function's bundle as the CDK builds it: its name and where its `index.mjs` is (its chunks beside it). */
export interface BuiltBundle {
  readonly name: string;
  readonly file: string;
}

// es-module-lexer parses with a WebAssembly module, ready once this resolves.
await esModuleLexer.init;

/**
 * The modules a cold start loads: `entry` (a bundle's `index.mjs`) and every chunk it imports
 * statically (`import … from`, `export … from`, `import "…"`), transitively (absolute paths, entry
 * first), as es-module-lexer parses each module. The chunks reached only through `import()` load
 * on first use and are left out; so are bare specifiers (Node's built-ins, the externals).
 * @throws the read error of a missing module, es-module-lexer's parse error
 */
export function modulesLoadedAtInit(entry: string): string[] {
  const loaded = [entry];
  for (let next = 0; next < loaded.length; next++) {
    const file = loaded[next] as string;
    const [imports] = esModuleLexer.parse(readFileSync(file, 'utf8'), file);
    for (const { n: specifier, d: dynamic } of imports) {
      // d is -1 for a static import or re-export, -2 for import.meta, the position of import() otherwise.
      if (dynamic !== -1 || specifier === undefined || !specifier.startsWith('./')) continue;
      const imported = join(dirname(file), specifier);
      if (!loaded.includes(imported)) loaded.push(imported);
    }
  }
  return loaded;
}

/** Every module of the bundle whose entry is `entry`: the `.mjs` files beside it (absolute paths). */
export function packageModules(entry: string): string[] {
  const directory = dirname(entry);
  return readdirSync(directory).filter((name) => name.endsWith('.mjs')).map((name) => join(directory, name));
}

/**
 * Bundles the functions (all, or those named) as `cdk synth` does: through {@link HeraldFunction},
 * with cdk.json's context (its feature flags), into a cloud assembly under `outdir`.
 */
export function bundleFunctions(outdir: string, names?: readonly string[]): BuiltBundle[] {
  const cdkJson = JSON.parse(readFileSync(join(repositoryRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ outdir, context: cdkJson.context ?? {} });
  const stack = new Stack(app, 'HeraldBundles', { env: { account: '000000000000', region: 'us-east-1' } });
  return functions.filter((definition) => names === undefined || names.includes(definition.name)).map((definition) => {
    const fn = new HeraldFunction(stack, `Fn-${definition.name}`, { definition });
    // The function's code asset: esbuild already ran (CDK bundles when the asset is staged).
    const asset = fn.node.findChild('Code') as Asset;
    return { name: definition.name, file: join(outdir, asset.assetPath, 'index.mjs') };
  });
}

async function measureSizes(bundle: BuiltBundle): Promise<Bundle> {
  const sizeOf = async (file: string): Promise<number> => (await stat(file)).size;
  const modules = packageModules(bundle.file);
  const codes = await Promise.all(modules.map((file) => readFile(file)));
  const maps = await Promise.all(modules.map((file) => sizeOf(`${file}.map`).catch(() => 0)));
  const initModules = modulesLoadedAtInit(bundle.file);
  const atInit = await Promise.all(initModules.map(sizeOf));
  return {
    ...bundle,
    bytes: atInit.reduce((sum, bytes) => sum + bytes, 0),
    lazyModules: modules.filter((module) => !initModules.includes(module)),
    packageBytes: codes.reduce((sum, code) => sum + code.length, 0),
    gzipBytes: codes.reduce((sum, code) => sum + gzipSync(code).length, 0),
    mapBytes: maps.reduce((sum, bytes) => sum + bytes, 0),
  };
}

/**
 * Imports `file` in a fresh Node process with the functions' NODE_OPTIONS and no compile cache,
 * then `later`, one after the other.
 */
function loadOnce(file: string, later: readonly string[]): Promise<Load> {
  const script = [
    'const startMs = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const initMs = performance.now() - startMs;',
    `for (const url of ${JSON.stringify(later.map((module) => pathToFileURL(module).href))}) await import(url);`,
    'const allMs = performance.now() - startMs;',
    'process.stdout.write(JSON.stringify({ startMs, initMs, allMs }));',
  ].join('\n');
  return new Promise((resolve, reject) => {
    // A Lambda's environment: its region and NODE_OPTIONS, nothing of this process's own.
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script], {
      env: { AWS_REGION: 'us-east-1', NODE_OPTIONS: heraldNodeOptions, NODE_DISABLE_COMPILE_CACHE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`Importing ${file} failed (exit ${code}): ${err.trim()}`));
      else resolve(JSON.parse(out) as Load);
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function kb(bytes: number): string {
  return `${number(bytes / 1024)} KB`;
}

function parseOptions(args: readonly string[]): { runs: number } {
  const { values } = parseArgs({ args: [...args], options: { runs: { type: 'string', default: '7' } } });
  const runs = numberOption('runs', values.runs, bundlesUsage, { integer: true });
  return { runs };
}

/** Runs the bundles benchmark with the command line's arguments; resolves with the exit code. */
export async function runBundlesBench(args: readonly string[]): Promise<number> {
  const { runs } = parseOptions(args);
  const scratch = await mkdtemp(join(tmpdir(), 'herald-bundles-'));
  try {
    console.log(`Bundling ${functions.length} functions as the CDK does (HeraldFunction, esbuild)...`);
    const began = performance.now();
    const bundles = await Promise.all(bundleFunctions(join(scratch, 'cdk.out')).map(measureSizes));
    console.log(`Bundled in ${number((performance.now() - began) / 1000, 1)} s.`);
    const empty = join(scratch, 'empty.mjs');
    await writeFile(empty, 'export const handler = async () => null;\n');

    console.log(`Loading each bundle in ${runs} fresh Node ${process.version} processes (round robin, one at a time)...`);
    const loads = new Map<string, Load[]>([[empty, []], ...bundles.map((b): [string, Load[]] => [b.file, []])]);
    const lazy = new Map(bundles.map((b) => [b.file, b.lazyModules]));
    for (let run = 0; run < runs; run++) {
      for (const [file, results] of loads) results.push(await loadOnce(file, lazy.get(file) ?? []));
    }
    const startMs = median([...loads.values()].flat().map((load) => load.startMs));
    const initOf = (file: string): number => median((loads.get(file) ?? []).map((load) => load.initMs));
    const allOf = (file: string): number => median((loads.get(file) ?? []).map((load) => load.allMs));
    const emptyInit = initOf(empty);

    console.log('');
    console.log('Function bundles (as deployed) and their module init (median, fresh process, source maps on)');
    console.log('at init: index.mjs and the chunks it imports; package: every chunk; all loaded: the init, then every chunk left for first use');
    console.log(
      `${'function'.padEnd(18)} ${'at init'.padStart(9)} ${'package'.padStart(9)} ${'gzip'.padStart(8)} ${'map'.padStart(9)} ${'init'.padStart(9)} ${'init/start'.padStart(11)} ${'all loaded'.padStart(11)}`,
    );
    let over = 0;
    for (const bundle of bundles) {
      const init = initOf(bundle.file);
      const marks = [bundle.bytes > sizeTargetBytes ? '> 300 KB' : '', init > initTargetMs ? '> 100 ms' : ''].filter(Boolean);
      if (marks.length > 0) over++;
      console.log(
        `${bundle.name.padEnd(18)} ${kb(bundle.bytes).padStart(9)} ${kb(bundle.packageBytes).padStart(9)} ${kb(bundle.gzipBytes).padStart(8)} ${kb(bundle.mapBytes).padStart(9)} ${`${number(init, 1)} ms`.padStart(9)} ${`${number(init / startMs, 2)}×`.padStart(11)} ${`${number(allOf(bundle.file), 1)} ms`.padStart(11)}  ${marks.join(', ')}`,
      );
    }
    console.log('');
    console.log(`Reference (same run, same processes): Node's own start ${number(startMs, 1)} ms (median); an empty ES module's init ${number(emptyInit, 1)} ms.`);
    console.log(`Targets (issue 8): bundle (at init) <= 300 KB, init <= 100 ms; ${over} of ${bundles.length} functions miss one.`);
    return 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
