/**
 * The template editor's "text generated from the HTML" (src/documents/text-from-html.ts): for every
 * built-in e-mail, in French and in English, the text written from the HTML part is a valid text
 * template, renders on the sample documents without a tag or an entity, and says what the HTML
 * says (the same words, the link's address written out).
 */
import { describe, expect, it } from 'vitest';
import { renderSource, validateTemplate } from '../src/documents/engine.ts';
import { builtInCombinations, builtInSource } from '../src/documents/registry.ts';
import { sampleVariables } from '../src/documents/samples.ts';
import { textFromHtml } from '../src/documents/text-from-html.ts';

/** A message as words: inline tags vanish, a line break is a space, a link's address (written out in the text) is left aside. */
const words = (s: string) =>
  s.replace(/<br\s*\/?>/g, ' ').replace(/<[^>]+>/g, '').replace(/ \(https?:\/\/[^)\s]*\)/g, '').replace(/&nbsp;|\u00a0/g, ' ').replace(/\s+/g, ' ').trim();

describe('the text part written from the HTML part', () => {
  const emails = [...builtInCombinations()].filter((c) => c.channel === 'email');

  it.each(emails.map((c) => [c.key, c.lang] as const))('%s (%s): valid, rendered without markup, the same words as the HTML', (key, lang) => {
    const html = builtInSource(lang, key, 'email', 'html').source;
    const text = textFromHtml(html);
    expect(() => validateTemplate(text, { mode: 'text', lang, samples: sampleVariables(lang), place: { field: 'text' } })).not.toThrow();
    const vars = sampleVariables(lang)[0]!;
    const renderedText = renderSource(text, 'text', lang, vars);
    const renderedHtml = renderSource(html, 'html', lang, vars);
    expect(renderedText).not.toMatch(/<\/?[a-z][^>]*>|&[a-z]+;|&#\d+;/i);
    // Each paragraph of the HTML message, in words, is found in the text (the partials take their text version).
    const paragraphs = [...renderedHtml.matchAll(/<p[^>]*>([\s\S]*?)<\/p>/g)].map((m) => words(m[1]!)).filter((p) => p.length > 0);
    expect(paragraphs.length).toBeGreaterThan(0);
    for (const p of paragraphs) expect(words(renderedText)).toContain(p);
  });

  it('gives back the built-in text of the templates whose text was written from their HTML', () => {
    for (const key of ['due', 'reminder', 'firm', 'final', 'formal_notice', 'promise'] as const) {
      for (const lang of ['fr', 'en'] as const) {
        expect(textFromHtml(builtInSource(lang, key, 'email', 'html').source), `${key} ${lang}`).toBe(builtInSource(lang, key, 'email', 'text').source.trim());
      }
    }
  });

  it('keeps Liquid as it is, writes a link with its address, and separates paragraphs and lines', () => {
    const html = [
      '<p>{{ contact.salutation }}</p>',
      '<p>Facture <strong>{{ invoice.number }}</strong>&nbsp;: {{ invoice.open_amount }}.<br>',
      'Merci d’avance.</p>',
      '{% if payment.link %}<p><a href="{{ payment.link }}">Régler en ligne</a></p>{% endif %}',
      '<ul><li>un</li><li>deux</li></ul>',
      "{% include 'signature' %}",
    ].join('\n');
    expect(textFromHtml(html)).toBe(
      [
        '{{ contact.salutation }}',
        '',
        'Facture {{ invoice.number }}\u00a0: {{ invoice.open_amount }}.',
        'Merci d’avance.',
        '',
        '{% if payment.link %}Régler en ligne ({{ payment.link }})',
        '',
        '{% endif %}',
        '- un',
        '- deux',
        '',
        "{% include 'signature' %}",
      ].join('\n'),
    );
  });
});
