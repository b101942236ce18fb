/**
 * Issue 16, point 7: every built-in template's output read as the debtor reads it — each tone,
 * channel and language, for a French business, a French consumer and a German business — e-mails
 * through mailparser, letters through pdftotext: what a lawyer or a native reader would object to
 * is refused here (an article cited twice in one sentence, French day counts in English, raw codes,
 * the other language's words, operator advice, the wrong country's law).
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeDocument } from '../src/documents/compose.ts';
import { buildEml } from '../src/documents/email.ts';
import { builtInCombinations } from '../src/documents/registry.ts';
import { sampleInput } from '../src/documents/samples.ts';
import { pdfText, plain } from './debtor-harness.ts';

type Who = 'business' | 'consumer' | 'german business';

async function read(who: Who, key: Parameters<typeof sampleInput>[2], channel: 'email' | 'sms' | 'letter' | 'call', lang: 'fr' | 'en'): Promise<string> {
  const input = sampleInput(who === 'consumer' ? 'consumer' : 'business', lang, key);
  if (who === 'german business') input.customer = { ...input.customer, country: 'DE' };
  const doc = await composeDocument({ key: key!, channel, input });
  if (channel === 'letter') return plain(pdfText(doc.pdf!));
  if (channel === 'email') {
    const eml = await buildEml({ from: 'Atelier Dupont <compta@atelier-dupont.fr>', to: 'client@example.fr', subject: doc.subject ?? '', html: doc.html ?? '', text: doc.text ?? '' });
    const mail = await simpleParser(eml);
    return plain(`${mail.subject}\n${mail.text}\n${(mail.html || '').replace(/<[^>]+>/g, ' ')}`);
  }
  return plain(doc.text);
}

/** Sentences of a text, the breaks of a letter's layout joined. */
const sentences = (text: string) => text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[A-ZÀ-Ý«"])/);

const CITATIONS = [/L441-10/g, /D441-5/g, /1231-6/g, /§ 288/g, /section 288/g, /2011\/7/g];

describe('16.7 what a lawyer or a native reader finds in the built-in templates', () => {
  const combos = [...builtInCombinations()];
  const who: Who[] = ['business', 'consumer', 'german business'];
  it.each(who.flatMap((w) => combos.map((c) => ({ who: w, ...c }))))('16.7 $who $key $channel $lang reads right', async ({ who, key, channel, lang }) => {
    const text = await read(who, key, channel, lang);
    const at = `${who} ${key}.${channel}.${lang}`;
    expect(text.trim().length, at).toBeGreaterThan(0);
    // No template left over, no missing value, no code meant for the software.
    expect(text, at).not.toMatch(/\{\{|\{%|undefined|\bnull\b|NaN|\[object Object\]/);
    expect(text, at).not.toMatch(/\b[a-z]+(?:_[a-z]+)+\b/); // formal_notice, provisional_rate…
    // Nothing meant for the operator.
    expect(text, at).not.toMatch(/relance rates|ecb-mro|provisoire|provisional|Ajoutez le taux/i);
    // One citation of an article per sentence (the firm letter cited L441-10 twice).
    for (const s of sentences(text)) for (const re of CITATIONS) expect((s.match(re) ?? []).length, `${at}: ${s}`).toBeLessThanOrEqual(1);
    if (lang === 'en') {
      // English words for English readers: no French day counts ("J+8") nor French words.
      expect(text, at).not.toMatch(/\bJ\s?[+-]\s?\d|\b(facture|échéance|relance|pénalités|Madame|Monsieur|mise en demeure)\b/i);
    } else {
      expect(text, at).not.toMatch(/\b(Dear|invoice|overdue|Please|due date|formal notice)\b/);
    }
    // The law of the customer's country, and nothing of another's.
    if (who === 'german business') expect(text, at).not.toMatch(/L441-10|D441-5|Code de commerce|Commercial Code/);
    if (who !== 'german business') expect(text, at).not.toMatch(/§ 288|section 288|BGB/);
    // A consumer owes no fixed compensation (France: CPCE L111-8).
    if (who === 'consumer') expect(text, at).not.toMatch(/40\s?€|€40|indemnité forfaitaire|fixed compensation/);
  });

  it('16.7 the formal notice and the second reminder cite their law once, in the sentence that relies on it', async () => {
    for (const [key, channel] of [['firm', 'letter'], ['firm', 'email'], ['formal_notice', 'letter'], ['formal_notice', 'email']] as const) {
      const fr = (await read('business', key, channel, 'fr')).replace(/\s+/g, ' ');
      const de = (await read('german business', key, channel, 'en')).replace(/\s+/g, ' ');
      if (key === 'firm') {
        expect(fr).toContain('Nous vous rappelons que, selon l’article L441-10 du Code de commerce, tout retard de paiement entraîne de plein droit des pénalités de retard');
        expect(de).toContain('Please note that under section 288 of the German Civil Code, late payment automatically incurs interest');
      } else {
        expect(fr).toContain('dues selon l’article L441-10 du Code de commerce');
        expect(de).toContain('owed under section 288 of the German Civil Code');
      }
    }
  });
});
