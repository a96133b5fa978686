import pino from "pino";

export type Logger = pino.Logger;

/** JSON lines in production; human-readable when a person is watching a terminal. */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  const pretty = process.stdout.isTTY && process.env.NODE_ENV !== "production";
  return pino({
    name,
    level,
    redact: { paths: ["*.password", "*.secret", "*.apiKey", "*.authorization", "databaseUrl"], remove: true },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  });
}
