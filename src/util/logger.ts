// What netctl logs through: pino's methods and calling convention (an object of fields, then the
// message), so an embedder may hand in pino itself or anything shaped like it.
export interface Logger {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
