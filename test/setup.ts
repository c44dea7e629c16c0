import { createRequire } from 'node:module';
import { sep } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll } from 'vitest';

// An App made without an `outdir` synthesises into a new `cdk.out*` directory under the system's
// temp dir. The CDK removes those when the process exits, which a vitest worker does not reach,
// so they piled up, ~0.5 GB a full run, until a developer machine's disk was full. Removed after
// each file, as the CDK's own Jest helper does (aws-cdk-lib/testhelpers/jest-autoclean), in a
// worker where a test loaded the CDK: importing it here for every file cost each ~0.25 s, most
// of a unit test file's own time. The CDK is CommonJS, loaded by Node's own loader (vitest does
// not transform node_modules), so `require` finds the very module instance the test used, which
// holds the record of its directories.
const require = createRequire(import.meta.url);
const cxApi = `${sep}aws-cdk-lib${sep}cx-api${sep}`;

afterAll(() => {
  if (!Object.keys(require.cache).some((path) => path.includes(cxApi))) return;
  (require('aws-cdk-lib/cx-api') as { CloudAssembly: typeof CloudAssembly }).CloudAssembly.cleanupTemporaryDirectories();
});
