import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { ensureSecretFile, generateSecretsKey } from "@second-layer/shared/secret-files";

export const SECRETS_KEY_FILENAME = "secrets-key";
export const ADMIN_KEY_FILENAME = "admin-key";

/**
 * `sl init-secrets --dir DIR`: the secrets a deployment needs, generated once into DIR (the compose
 * `init` service runs it on a named volume; the api and worker read the files through SECRETS_KEY_FILE
 * and API_BOOTSTRAP_KEY_FILE). A value set in the environment is used instead and no file is written.
 * The admin key is printed once, when it is created, and never again.
 */
export async function initSecretsCommand(args: string[], env = process.env): Promise<number> {
  const { values } = parseArgs({ args, options: { dir: { type: "string" } } });
  if (!values.dir) {
    process.stderr.write("init-secrets: --dir DIR is required (where the secret files live)\n");
    return 1;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);

  if (env.SECRETS_KEY) say("SECRETS_KEY: set in the environment; no file written");
  else {
    const path = join(values.dir, SECRETS_KEY_FILENAME);
    const { created } = ensureSecretFile(path, generateSecretsKey);
    say(
      `SECRETS_KEY: ${created ? "generated into" : "kept in"} ${path}${created ? " (back it up: stream secrets cannot be read without it)" : ""}`,
    );
  }

  if (env.API_BOOTSTRAP_KEY) say("API_BOOTSTRAP_KEY: set in the environment; no file written");
  else {
    const path = join(values.dir, ADMIN_KEY_FILENAME);
    const admin = ensureSecretFile(path, generateApiKey);
    if (admin.created) {
      say(`admin API key (shown this once; kept in ${path}):`);
      say(`  ${admin.value}`);
    } else {
      say(`admin API key: kept in ${path} (not shown again)`);
    }
  }
  return 0;
}
