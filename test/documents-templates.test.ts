import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../src/domain/dates.ts';
import { RelanceError } from '../src/errors.ts';
import { composeDocument } from '../src/documents/compose.ts';
import { renderTemplate, validateTemplate } from '../src/documents/engine.ts';
import { builtInCombinations, builtInSource, CHANNEL_PARTS, partMode, TEMPLATE_KEYS, TEMPLATES } from '../src/documents/registry.ts';
import { sampleInput, sampleVariables } from '../src/documents/samples.ts';
import { frenchTypography, NNBSP } from '../src/documents/typography.ts';
import { buildVariables, checkVariablesShape } from '../src/documents/variables.ts';

const combos = [...builtInCombinations()];
const kinds = ['business', 'consumer'] as const;

function refusal(fn: () => unknown): RelanceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RelanceError);
    expect((e as RelanceError).code).toBe('validation');
    return e as RelanceError;
  }
  throw new Error('expected the template to be refused');
}

describe('built-in template set', () => {
  it('covers every tone, with letters for the reminders, formal notice and statement, and calls at J+8 and J+25', () => {
    expect(TEMPLATE_KEYS).toEqual(
      expect.arrayContaining(['courtesy', 'due', 'reminder', 'firm', 'final', 'formal_notice', 'handover', 'statement', 'payment_plan', 'promise', 'dispute_ack', 'call_j8', 'call_j25']),
    );
    for (const k of ['reminder', 'firm', 'final', 'formal_notice', 'statement'] as const) expect(TEMPLATES[k].channels).toContain('letter');
    expect(TEMPLATES.call_j8.channels).toEqual(['call']);
    expect(combos.length).toBe(TEMPLATE_KEYS.reduce((n, k) => n + TEMPLATES[k].channels.length * 2, 0));
  });

  it('sample variables match the documented list exactly (business with everything, consumer with nothing optional)', () => {
    for (const lang of ['fr', 'en'] as const) for (const v of sampleVariables(lang)) expect(checkVariablesShape(v)).toEqual([]);
  });

  it.each(combos)('$key $channel $lang: every part passes validation against the samples', ({ key, channel, lang }) => {
    for (const part of CHANNEL_PARTS[channel]) {
      const sp = builtInSource(lang, key, channel, part);
      expect(() => validateTemplate(sp.source, { mode: partMode(channel, part), lang, samples: sampleVariables(lang), place: { file: sp.file, line: sp.line } })).not.toThrow();
    }
  });

  describe.each(kinds)('for a %s customer', (kind) => {
    it.each(combos)('$key $channel $lang renders strictly, with no undefined or empty value', ({ key, channel, lang }) => {
      const vars = buildVariables(sampleInput(kind, lang, key));
      const parts = renderTemplate(key, channel, lang, vars);
      for (const [part, text] of Object.entries(parts)) {
        expect(text, part).not.toMatch(/undefined|null|NaN|\[object Object\]|\{\{|\{%/);
        expect(text.trim().length, part).toBeGreaterThan(0);
      }
      if (lang === 'fr' && channel !== 'sms') for (const text of Object.values(parts)) expect(text).not.toMatch(/ [;:!?](\s|$)/);
      if (channel === 'sms') {
        expect(parts.text).not.toMatch(/[\u00a0\u202f]/);
        expect(parts.text!.length).toBeLessThanOrEqual(306);
      }
      if (channel === 'email') expect(parts.html).toMatch(/^<p>/);
      expect({ subject: parts.subject, text: parts.text ?? parts.body ?? parts.script }).toMatchSnapshot();
    });
  });
});

describe('what the templates say', () => {
  const letterBody = (kind: 'business' | 'consumer', lang: 'fr' | 'en', key: 'formal_notice' | 'firm' | 'courtesy', channel: 'letter' | 'email' = 'letter') =>
    renderTemplate(key, channel, lang, buildVariables(sampleInput(kind, lang, key)));

  it('the formal notice says "mise en demeure", details principal, penalties and indemnity, and gives 8 days', () => {
    const { body, subject } = letterBody('business', 'fr', 'formal_notice');
    expect(subject).toContain('Mise en demeure');
    expect(body).toContain('MISE EN DEMEURE');
    expect(body).toContain('nous vous mettons en demeure');
    expect(body).toContain(`principal restant dû (12${NNBSP}000,00${NNBSP}€)`);
    expect(body).toContain(`les pénalités de retard arrêtées au 15 septembre 2025 (372,43${NNBSP}€)`);
    expect(body).toContain(`l’indemnité forfaitaire pour frais de recouvrement (40,00${NNBSP}€), dues selon l’article L441-10 du Code de commerce`);
    // The article is cited once, not again inside the rate it sets.
    expect(body!.match(/L441-10/g)).toHaveLength(1);
    expect(body).toContain('dans un délai de 8 jours');
    expect(body).toContain('23 septembre 2025');
    expect(body).toContain('injonction de payer');
    expect(body).toContain('recouvrement');
  });

  it('the consumer formal notice has no business-only item: no L441-10 penalties, no 40 € indemnity', () => {
    const { body } = letterBody('consumer', 'fr', 'formal_notice');
    expect(body).toContain('MISE EN DEMEURE');
    expect(body).toContain('elle portera intérêts au taux de l’intérêt légal à compter de la présente mise en demeure, selon les articles 1231-6 et 1344-1 du Code civil');
    expect(body).not.toMatch(/L441-10|40\s?€|indemnité forfaitaire/);
    expect(body).toContain('injonction de payer');
  });

  it('the second reminder mentions penalties and the 40 € indemnity for businesses only', () => {
    const firm = letterBody('business', 'fr', 'firm').body!;
    expect(firm).toMatch(/indemnité forfaitaire pour frais de recouvrement \(40\u202f€ par facture payée en retard\)/);
    // One citation of L441-10 in the sentence, not one more inside the rate (issue 16, point 7).
    expect(firm.match(/L441-10/g)).toHaveLength(1);
    expect(letterBody('consumer', 'fr', 'firm').body).not.toMatch(/40\s?€|L441-10/);
    expect(letterBody('business', 'en', 'firm').body).toContain('€40 per invoice paid late');
  });

  it('the courtesy email carries the one-click satisfaction question only when the links exist', () => {
    expect(letterBody('business', 'fr', 'courtesy', 'email').text).toContain('Non, il y a un problème : '.replace(' :', `${NNBSP}:`));
    expect(letterBody('business', 'fr', 'courtesy', 'email').html).toContain('href="https://portail.atelier-dupont.fr/s/7f3a?r=ko"');
    expect(letterBody('consumer', 'fr', 'courtesy', 'email').text).not.toContain('problème');
  });

  it('formats money and dates per language', () => {
    const fr = buildVariables(sampleInput('business', 'fr'));
    const en = buildVariables(sampleInput('business', 'en'));
    expect(fr.invoice.amount).toBe(`12${NNBSP}000,00${NNBSP}€`);
    expect(en.invoice.amount).toBe('€12,000.00');
    expect(fr.invoice.due_date).toBe('15 juin 2025');
    expect(en.invoice.due_date).toBe('15 June 2025');
    expect(buildVariables({ ...sampleInput('business', 'fr'), at: '2026-11-22' as CalendarDate }).today).toBe('22 novembre 2026');
    expect(fr.payment.reference).toBe('RF22F20250412');
    expect(fr.payment.iban).toBe('FR76 3000 6000 0112 3456 7890 189');
  });

  it('applies French typography: narrow no-break space before ; : ! ? and inside « »', () => {
    expect(frenchTypography('Objet : « relance » ; merci ! Payé ? 40 € 5 %')).toBe(
      `Objet${NNBSP}: «${NNBSP}relance${NNBSP}»${NNBSP}; merci${NNBSP}! Payé${NNBSP}? 40${NNBSP}€ 5${NNBSP}%`,
    );
    expect(frenchTypography('https://x.fr/p?a=1 10:30')).toBe('https://x.fr/p?a=1 10:30');
  });

  it('escapes values in HTML but not in text', async () => {
    const input = sampleInput('business', 'en', 'reminder');
    input.contact = { ...input.contact, name: '<b>Marie</b>' };
    const doc = await composeDocument({ key: 'reminder', channel: 'email', input });
    expect(doc.html).not.toContain('<b>Marie</b>');
    expect(doc.html).toContain('&lt;b&gt;Marie&lt;/b&gt;');
    expect(doc.text).toContain('<b>Marie</b>');
  });
});

describe('validateTemplate refuses, with the line and the reason', () => {
  const opts = { lang: 'fr' as const, samples: sampleVariables('fr') };

  it('an unknown variable', () => {
    const e = refusal(() => validateTemplate('Bonjour,\n\nFacture {{ invoice.number }}\nMontant : {{ montant }}', opts));
    expect(e.where?.line).toBe(4);
    expect(e.message).toContain('unknown variable "montant"');
  });

  it('an unknown field of a known object', () => {
    const e = refusal(() => validateTemplate('{{ organisation.name }}\n{{ customer.adresse }}', opts));
    expect(e.where?.line).toBe(2);
    expect(e.message).toContain('"customer" has no field "adresse"');
  });

  it('an unknown field on a loop variable', () => {
    const e = refusal(() => validateTemplate('{% for i in invoices %}\n- {{ i.numero }}\n{% endfor %}', opts));
    expect(e.where?.line).toBe(2);
    expect(e.message).toContain('"numero"');
  });

  it('a list used as a value', () => {
    const e = refusal(() => validateTemplate('x\n{{ invoices.number }}', opts));
    expect(e.where?.line).toBe(2);
  });

  it('a syntax error: an unclosed tag, an unclosed output, an unknown filter or tag', () => {
    expect(refusal(() => validateTemplate('a\nb\n{% if customer.is_business %}\nc', opts)).where?.line).toBe(3);
    expect(refusal(() => validateTemplate('a\n{{ invoice.number ', opts)).where?.line).toBe(2);
    const f = refusal(() => validateTemplate('a\n\n{{ invoice.number | shout }}', opts));
    expect(f.where?.line).toBe(3);
    expect(f.message).toContain('undefined filter: shout');
    expect(refusal(() => validateTemplate('{% exec "ls" %}', opts)).message).toMatch(/tag "exec" not found/);
  });

  it('the letter table tags outside a letter body', () => {
    expect(() => validateTemplate('{% invoice_table %}', { ...opts, mode: 'letter' })).not.toThrow();
    expect(refusal(() => validateTemplate('a\n{% invoice_table %}', { ...opts, mode: 'text' })).where?.line).toBe(2);
  });

  it('reading an optional value without testing it first (fails on the consumer sample)', () => {
    const e = refusal(() => validateTemplate('Promesse\nle {{ promise.date }}', opts));
    expect(e.where?.line).toBe(2);
  });

  it('any file include: there is no file system behind the engine', () => {
    refusal(() => validateTemplate("{% include '/etc/passwd' %}", opts));
    refusal(() => validateTemplate("{% render '../../package.json' %}", opts));
    refusal(() => validateTemplate("{% layout 'x' %}", opts));
  });

  it('and offsets the line by the part’s position in a file', () => {
    const e = refusal(() => validateTemplate('ok\n{{ nope }}', { ...opts, place: { file: 'x.liquid', line: 10 } }));
    expect(e.where).toMatchObject({ file: 'x.liquid', line: 11 });
    expect(e.describe()).toMatch(/^x\.liquid:11/);
  });
});
