import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { afterAll } from 'vitest';

// An App made without an `outdir` synthesises into a new `cdk.out*` directory under the system's
// temp dir. The CDK removes those when the process exits, which a vitest worker does not reach,
// so they piled up, ~0.5 GB a full run, until a developer machine's disk was full. Removed after
// each file, as the CDK's own Jest helper does (aws-cdk-lib/testhelpers/jest-autoclean).
afterAll(() => CloudAssembly.cleanupTemporaryDirectories());
