import { describe, expect, it } from 'vitest';
import { DYNALITE_VERSION } from '../../../local/dynamodb/dynalite.ts';
import { assertPinnedVersion } from '../../../local/pinned-version.ts';
import { FAUXQS_VERSION } from '../../../local/sqs-emulator.ts';
import packageJson from '../../../package.json' with { type: 'json' };

describe('assertPinnedVersion', () => {
  it('lets the pinned version through', () => {
    // Act
    const check = (): void => assertPinnedVersion({ name: 'dynalite', installed: '4.0.0', pinned: '4.0.0', module: 'local/dynamodb' });

    // Assess
    expect(check).not.toThrow();
  });

  it('refuses another version, naming the package, both versions and the module to re-check', () => {
    // Act
    const check = (): void => assertPinnedVersion({ name: 'dynalite', installed: '4.1.0', pinned: '4.0.0', module: 'local/dynamodb' });

    // Assess
    expect(check).toThrow("local/dynamodb runs dynalite 4.0.0's internals, but dynalite 4.1.0 is installed");
  });

  it('checks the versions package.json pins exactly', () => {
    // Act
    const pins = { dynalite: packageJson.dependencies.dynalite, fauxqs: packageJson.dependencies.fauxqs };

    // Assess
    expect(pins).toEqual({ dynalite: DYNALITE_VERSION, fauxqs: FAUXQS_VERSION });
  });
});
