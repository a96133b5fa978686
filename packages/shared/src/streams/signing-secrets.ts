import type { SecretsBox } from "../secrets-box.ts";

export interface SealedSecrets {
  id: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Date | null;
}

/** The secrets a stream signs with now: its current one, and the previous one while its grace lasts. */
export function signingSecrets(box: SecretsBox, stream: SealedSecrets, now = new Date()): string[] {
  const secrets = [box.decrypt(stream.secret_enc, stream.id)];
  if (stream.previous_secret_enc && stream.previous_secret_expires_at && stream.previous_secret_expires_at > now) {
    secrets.push(box.decrypt(stream.previous_secret_enc, stream.id));
  }
  return secrets;
}
