/**
 * Sample documents: what the template editor previews, what validateTemplate renders a template
 * against before accepting it, and what the tests and the bench render. Two customers: a business
 * with everything filled in (previous reminders, fees, links, plan, promise, dispute), and a
 * consumer with nothing optional, so a template that reads an optional value without testing it
 * first fails validation instead of failing on the day it is sent.
 */
import type { CalendarDate } from '../domain/dates.ts';
import type { Lang } from '../i18n/index.ts';
import { type DocumentInput, type InvoiceFees, type TemplateVariables, buildVariables } from './variables.ts';
import type { TemplateKey } from './registry.ts';
import { TEMPLATES } from './registry.ts';

const d = (s: string) => s as CalendarDate;

export const SAMPLE_ORGANISATION = {
  legalName: 'Atelier Dupont SAS',
  addressLine1: '12 rue des Tanneurs',
  addressLine2: null,
  postalCode: '69002',
  city: 'Lyon',
  country: 'FR',
  siren: '732829320',
  siret: '73282932000074',
  vatNumber: 'FR44732829320',
  iban: 'FR7630006000011234567890189',
  bic: 'AGRIFRPP',
};

export const SAMPLE_BRANDING = {
  colour: '#1F4E79',
  signatoryName: 'Claire Martin',
  signatoryTitle: 'Responsable comptabilité clients',
  footer: 'SAS au capital de 50 000 € · RCS Lyon 732 829 320',
  email: 'compta@atelier-dupont.fr',
  phone: '04 78 00 00 00',
  website: 'atelier-dupont.fr',
  place: 'Lyon',
};

/** The worked example of docs/law.md §1: 12 000,00 € due 15 June 2025, 372,43 € interest + 40 €. */
export function sampleInput(kind: 'business' | 'consumer', lang: Lang, key: TemplateKey = 'reminder', invoiceCount = 1): DocumentInput {
  const full = kind === 'business';
  const invoices = Array.from({ length: invoiceCount }, (_, n) => ({
    number: n === 0 ? 'F-2025-0412' : `F-2025-${String(412 + n).padStart(4, '0')}`,
    issueDate: d('2025-05-16'),
    dueDate: d('2025-06-15'),
    currency: 'EUR',
    amountInclTaxMinor: n === 0 ? 1_200_000n : 48_000n + BigInt(n) * 1_250n,
    openMinor: n === 0 ? 1_200_000n : 48_000n + BigInt(n) * 1_250n - (n % 3 === 0 ? 10_000n : 0n),
  }));
  const fees = new Map<string, InvoiceFees>(
    // A consumer owes no statutory interest before the formal notice, and never the €40 indemnity.
    invoices.map((i, n) => [
      i.number,
      full
        ? {
            interestMinor: n === 0 ? 37_243n : 1_500n,
            indemnityMinor: 4_000n,
            periods:
              n === 0
                ? [
                    { from: d('2025-06-16'), to: d('2025-06-30'), days: 15, ratePercent: '13.15', interestMinor: 6_485n },
                    { from: d('2025-07-01'), to: d('2025-09-15'), days: 77, ratePercent: '12.15', interestMinor: 30_758n },
                  ]
                : [],
          }
        : { interestMinor: 0n, indemnityMinor: 0n },
    ]),
  );
  const spec = TEMPLATES[key];
  return {
    lang,
    at: d('2025-09-15'),
    organisation: SAMPLE_ORGANISATION,
    branding: SAMPLE_BRANDING,
    customer: full
      ? { legalName: 'Boulangerie Lefèvre SARL', kind: 'business', number: 'C-00042', siren: '552100554', vatNumber: 'FR11552100554' }
      : { legalName: 'Mme Élodie Garnier', kind: 'consumer', number: 'C-00077' },
    contact: full
      ? { name: 'Marie Lefèvre', email: 'marie@boulangerie-lefevre.fr', phone: '06 12 34 56 78', addressLine1: '3 place du Marché', addressLine2: 'Bâtiment B', postalCode: '69003', city: 'Lyon', country: 'FR' }
      : { addressLine1: '8 allée des Cerisiers', postalCode: '38000', city: 'Grenoble' },
    invoices,
    fees,
    claimPenalties: spec.claimPenalties,
    creditsMinor: full ? 5_000n : 0n,
    deadlineDays: spec.deadlineDays || 8,
    reminders: full
      ? [
          { date: d('2025-06-23'), channel: 'email', key: 'reminder' },
          { date: d('2025-07-10'), channel: 'letter', key: 'firm' },
        ]
      : [],
    attachedInvoices: full ? 1 : 0,
    links: full
      ? {
          payment: 'https://pay.atelier-dupont.fr/p/7f3a',
          portal: 'https://portail.atelier-dupont.fr/c/42',
          satisfactionHappy: 'https://portail.atelier-dupont.fr/s/7f3a?r=ok',
          satisfactionUnhappy: 'https://portail.atelier-dupont.fr/s/7f3a?r=ko',
        }
      : {},
    plan: full
      ? {
          installments: [
            { date: d('2025-10-05'), amountMinor: 400_000n },
            { date: d('2025-11-05'), amountMinor: 400_000n },
            { date: d('2025-12-05'), amountMinor: 400_000n },
          ],
          current: key === 'instalment' ? { seq: 2, date: d('2025-11-05'), amountMinor: 400_000n, overdue: true } : null,
        }
      : null,
    promise: full ? { date: d('2025-09-30'), amountMinor: 1_200_000n } : null,
    receipt: full ? { kind: 'paid', paidOn: d('2025-09-10'), amountMinor: 1_200_000n, reference: 'VIR 2025-0910', holdUntil: d('2025-09-17') } : null,
    dispute: full ? { receivedOn: d('2025-09-12'), reason: 'Livraison incomplète : 2 cartons manquants', reference: 'LIT-2025-017' } : null,
    handover: full ? { agency: 'Cabinet Recouvrement Rhône', date: d('2025-09-15') } : null,
  };
}

/** The variables validateTemplate renders every template against. */
export function sampleVariables(lang: Lang): TemplateVariables[] {
  return [buildVariables(sampleInput('business', lang)), buildVariables(sampleInput('consumer', lang))];
}
