/**
 * A request that fails its zod schema is refused with the first issue, in both languages: zod's
 * own French locale gives the French text of its built-in messages; a schema's custom message has
 * no French text and stays as written.
 */
import { z } from 'zod';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors, type Text } from '../i18n/index.ts';

const E = defineErrors('http-validation', {
  invalid_field: { fr: '{field} : {reason}', en: '{field}: {reason}' },
});

const fr = z.locales.fr();
const en = z.locales.en();

/** The issue's message as a Text: French from zod's French locale when the message is zod's own. */
export function zodIssueText(issue: z.core.$ZodIssue): Text {
  let frText = issue.message;
  try {
    const raw = issue as unknown as Parameters<typeof en.localeError>[0];
    const ownEnglish = en.localeError(raw);
    const english = typeof ownEnglish === 'string' ? ownEnglish : ownEnglish?.message;
    if (english === issue.message) {
      const french = fr.localeError(raw);
      frText = (typeof french === 'string' ? french : french?.message) ?? issue.message;
    }
  } catch {
    // A message zod's locale cannot describe stays as written.
  }
  return { key: `zod.${issue.code}`, fr: frText, en: issue.message, vars: {} };
}

/** The validation error for a zod failure: the first issue names the field (or the part). */
export function zodError(e: z.ZodError, part: string, details?: unknown): RelanceError {
  const first = e.issues[0]!;
  const field = first.path.length ? first.path.join('.') : part;
  return new RelanceError(ERROR_CODES.VALIDATION, E('invalid_field', { field, reason: zodIssueText(first) }), { where: { field }, details });
}
