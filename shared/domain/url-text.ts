/**
 * What the WHATWG URL parser (`new URL`) repairs silently in a URL as written: it drops tabs and
 * line breaks anywhere, trims leading and trailing spaces and control characters, and reads
 * `https:///x` as the host `x`. Herald refuses such a URL rather than store one text and post to
 * another ("URL Standard", 4.4 URL parsing: the validation errors it recovers from).
 */

/** True when `text` holds white space or an ASCII control character (U+0000-U+001F, U+007F). */
export function hasSpaceOrControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the control characters are what it looks for
  return /[\s\u0000-\u001f\u007f]/.test(text);
}

/**
 * The authority of a URL as written: what follows `scheme://` up to the path, query or fragment;
 * `undefined` when it is empty (`https:///x`) or the text does not start with `scheme://`.
 */
export function writtenAuthority(text: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]+)/i.exec(text)?.[1];
}
