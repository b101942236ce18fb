/**
 * French typography for rendered documents: a narrow no-break space (U+202F) before ; : ! ? and
 * inside « », so a line never breaks between a word and its punctuation. Applied to the output of
 * French templates, because people editing a template type an ordinary space (or none inside
 * guillemets), and between a number and € or %. Only an existing space is replaced before ; : ! ? — inserting one where there is
 * none would break URLs ("https://", "?page=2") and times ("10:30").
 */
export const NNBSP = '\u202f';

export function frenchTypography(text: string): string {
  return text
    .replace(/[ \u00a0]+(?=[;:!?])/g, NNBSP)
    .replace(/(\d)[ \u00a0](?=[€%])/g, `$1${NNBSP}`)
    .replace(/«[ \u00a0\u202f]*/g, `«${NNBSP}`)
    .replace(/[ \u00a0\u202f]*»/g, `${NNBSP}»`);
}

/** The same on HTML: only text between tags is touched, never attributes or markup. */
export function frenchTypographyHtml(html: string): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part, i) => (i % 2 === 1 ? part : frenchTypography(part)))
    .join('');
}

/**
 * SMS: U+202F and U+00A0 are outside the GSM 03.38 alphabet and would switch the whole message to
 * UCS-2 (70 characters a segment instead of 160); an ordinary space costs nothing.
 */
export function smsSpaces(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ');
}
