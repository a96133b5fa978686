/** The error body every service answers with: `{error: {code, message, details?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** Postgres failed: the client gets a code and a short message; the driver's text goes to the server log only. */
export function databaseUnavailableBody() {
  return errorBody("DATABASE_UNAVAILABLE", "the database is unavailable; try again shortly");
}
