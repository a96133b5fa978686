/**
 * A URL fit for a log line or an error message: the password masked (a user name alone is masked too:
 * `https://TOKEN@host` is a common way to pass a token), the query string and fragment dropped (API
 * keys travel there as well). Text that does not parse as a URL is masked up to its
 * last `@`, so a malformed DATABASE_URL cannot leak its password either.
 */
export function redactUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url?.host) return redactUnparsed(text);
  const user = url.password ? `${url.username}:***@` : url.username ? "***@" : "";
  return `${url.protocol}//${user}${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

function redactUnparsed(text: string): string {
  const at = text.lastIndexOf("@");
  const scheme = text.indexOf("://");
  const authorityStart = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  // Masking first, then cutting the query: a password may itself contain `?` or `#`.
  const masked = at >= 0 ? `${text.slice(0, authorityStart)}***${text.slice(at)}` : text;
  return masked.replace(/[?#].*$/s, "");
}
