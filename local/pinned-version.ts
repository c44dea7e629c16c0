/**
 * The check that guards the local stack's use of a package's internals: package.json pins the
 * package exactly, and the module that reaches into it refuses to start against another version.
 */

/** Throws an Error naming the package, both versions and the module to re-check, when `installed` is not `pinned`. */
export function assertPinnedVersion(options: { readonly name: string; readonly installed: string; readonly pinned: string; readonly module: string }): void {
  if (options.installed === options.pinned) return;
  throw new Error(
    `${options.module} runs ${options.name} ${options.pinned}'s internals, but ${options.name} ${options.installed} is installed: ` +
      `pin it back in package.json, or re-check ${options.module} against the new version before changing the pin.`,
  );
}
