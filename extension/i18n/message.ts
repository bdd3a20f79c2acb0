// The shape of one message, as `_locales/*/messages.json` holds it, and the pure substitution that
// browser.i18n.getMessage performs, so that node (the unit tests) reads the same words.

export interface Message {
  /** The text; `$name$` stands for a placeholder, `code` between backticks is shown as code. */
  message: string;
  /** For translators: where the text shows. */
  description?: string;
  placeholders?: Record<string, { content: string; example?: string }>;
}

/** Placeholders `$a$`, `$b$`… taking the 1st, 2nd… substitution: `ph('host', 'port')`. */
export function ph(...names: string[]): Record<string, { content: string }> {
  return Object.fromEntries(names.map((n, i) => [n, { content: `$${i + 1}` }]));
}

/** What getMessage returns for `m` with `subs`: placeholders replaced, then `$1`…`$9`, then `$$`. */
export function formatMessage(m: Message, subs: readonly string[] = []): string {
  const filled = m.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name: string) => {
    const p = m.placeholders?.[name.toLowerCase()];
    return p ? p.content : whole;
  });
  return filled.replace(/\$(\d|\$)/g, (_, d: string) => (d === '$' ? '$' : (subs[Number(d) - 1] ?? '')));
}

/** The placeholder names a message uses in its text, lower-cased as the browsers match them. */
export function usedPlaceholders(m: Message): string[] {
  return [...m.message.matchAll(/\$([A-Za-z0-9_@]+)\$/g)].map((x) => x[1]!.toLowerCase()).sort();
}
