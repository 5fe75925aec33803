/**
 * Secret values known to this process (S3 secret, key id). Whatever is printed on the way out
 * passes through `redact`, so a secret that slipped into an SDK error message never reaches a
 * terminal or a log. Registration is idempotent.
 */
const secrets = new Set<string>();

/** Remember a secret so that `redact` hides it. Empty and very short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 4) secrets.add(value);
}

/** Replace every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
