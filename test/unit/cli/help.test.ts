/** What `herald <command> --help` tells that the command itself cannot do. */
import { describe, expect, it } from 'vitest';
import { heraldProgram } from '../../../cli/herald.ts';

describe('herald broadcast --help', () => {
  it('says how a draft goes out, since no herald command sends one', () => {
    // Act
    const help = heraldProgram().commands.find((command) => command.name() === 'broadcast')?.helpInformation();

    // Assess
    expect(help).toMatch(/--draft\s+keep it as a draft: nothing goes out until\s+POST\s+\/v1\/broadcasts\/\{id\}\/schedule/);
  });
});
