/**
 * The text part of an e-mail template written from its HTML part, so an organisation keeps one
 * version of its wording (the template editor's "text generated from the HTML"). It works on the
 * template's source, not on a rendered message: Liquid tags and outputs are kept as they are, and
 * `{% include 'payment' %}` in the text part takes the text version of the partial. Tags are
 * removed, paragraphs become blank-line-separated blocks, line breaks stay, a link keeps its
 * address, in brackets after its words. Pure and without imports: the web app runs it as the user types.
 */
const ENTITIES: Record<string, string> = { nbsp: '\u00a0', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", rsquo: '’', lsquo: '‘', laquo: '«', raquo: '»', euro: '€', hellip: '…', ndash: '–', mdash: '—' };

export function textFromHtml(html: string): string {
  return (
    html
      .replace(/\r\n?/g, '\n')
      // Comments, styles and scripts are not words of the message.
      .replace(/<!--[\s\S]*?-->|<(style|script)\b[\s\S]*?<\/\1>/gi, '')
      // A link: its words, then its address when the words are not the address already.
      .replace(/<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi, (_, _q: string, href: string, words: string) => {
        const text = words.replace(/<[^>]+>/g, '').trim();
        return !text || text === href ? href : `${text} (${href})`;
      })
      .replace(/<br\s*\/?>[ \t]*\n?/gi, '\n')
      .replace(/<li\b[^>]*>/gi, '- ')
      .replace(/<\/(p|div|h[1-6]|table|ul|ol|blockquote)>/gi, '\n\n')
      .replace(/<\/(li|tr)>/gi, '\n')
      // Any other tag goes; a Liquid tag ({% %}) or output ({{ }}) has no '<' and stays.
      .replace(/<\/?[a-zA-Z][^>]*>/g, '')
      .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
        if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
        return ENTITIES[e.toLowerCase()] ?? m;
      })
      .split('\n')
      .map((l) => l.replace(/[ \t]+/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}
