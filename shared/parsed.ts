// The answer of every pure parser of user input (command lines, destinations, settings text,
// messages): the value, or what is wrong with it in words fit to show. A bad input is an answer,
// not an exception; exceptions are kept for programming errors and I/O (see docs/DECISIONS.md).

export type Parsed<T, E = string> = { ok: true; value: T } | { ok: false; error: E };
