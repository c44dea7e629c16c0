/** Types of install-notice.mjs (plain JavaScript, so that it runs on any Node that starts npm). */
export function installNotice(phase: 'before' | 'after', options?: { omit?: string; nodeVersion?: string }): string;
