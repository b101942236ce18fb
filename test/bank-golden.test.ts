/**
 * Precision and recall of the automatic pass against the labelled golden dataset
 * (test/golden/bank-reconciliation.json, see generate-bank-golden.ts). An automatic match is right
 * when it names the labelled customer and exactly the labelled invoices; precision is over the
 * automatic matches, recall over the lines that have a right answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../src/domain/dates.ts';
import { describeProposal, type KnownCustomer, type MatchLine, matchLines, type OpenInvoice } from '../src/domain/matching.ts';

interface Golden {
  settings: { autoThreshold: number; bankChargesToleranceMinor: string; bankCharges: 'write_off' | 'leave_open' };
  customers: { key: string; name: string; ibans: string[] }[];
  invoices: { number: string; customer: string; issueDate: string; dueDate: string; amountMinor: string }[];
  lines: (Omit<MatchLine, 'amountMinor' | 'bookingDate'> & {
    category: string;
    bookingDate: string;
    amountMinor: string;
    expected: { customer: string; invoices: string[] } | null;
  })[];
}

const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'golden', 'bank-reconciliation.json'), 'utf8')) as Golden;

describe('reconciliation golden dataset', () => {
  it('automatic matches reach precision >= 99.5 % and recall >= 90 %', () => {
    expect(golden.lines.length).toBeGreaterThanOrEqual(500);
    const idOf = new Map(golden.customers.map((c, i) => [c.key, BigInt(i + 1)]));
    const keyOf = new Map([...idOf].map(([k, v]) => [v, k]));
    const customers: KnownCustomer[] = golden.customers.map((c) => ({ id: idOf.get(c.key)!, name: c.name, ibans: c.ibans }));
    const invoices: OpenInvoice[] = golden.invoices.map((i, k) => ({
      id: BigInt(k + 1),
      customerId: idOf.get(i.customer)!,
      number: i.number,
      currency: 'EUR',
      openMinor: BigInt(i.amountMinor),
      issueDate: i.issueDate as CalendarDate,
      dueDate: i.dueDate as CalendarDate,
    }));
    const lines: MatchLine[] = golden.lines.map((l) => ({ ...l, bookingDate: l.bookingDate as CalendarDate, amountMinor: BigInt(l.amountMinor) }));
    const outcomes = matchLines(lines, invoices, customers, {
      autoThreshold: golden.settings.autoThreshold,
      bankChargesToleranceMinor: BigInt(golden.settings.bankChargesToleranceMinor),
      bankCharges: golden.settings.bankCharges,
    });

    let auto = 0;
    let right = 0;
    let answerable = 0;
    const perCategory = new Map<string, { n: number; auto: number; right: number }>();
    const wrong: string[] = [];
    golden.lines.forEach((l, i) => {
      const o = outcomes[i]!;
      const cat = perCategory.get(l.category) ?? { n: 0, auto: 0, right: 0 };
      perCategory.set(l.category, cat);
      cat.n++;
      if (l.expected) answerable++;
      if (o.kind !== 'auto') return;
      auto++;
      cat.auto++;
      const p = o.proposal;
      const got = [...new Set([...p.allocations, ...p.writeOffs].map((a) => a.number))].sort();
      const ok = l.expected !== null && keyOf.get(p.customerId) === l.expected.customer && JSON.stringify(got) === JSON.stringify([...l.expected.invoices].sort());
      if (ok) {
        right++;
        cat.right++;
      } else {
        wrong.push(`${l.id} ${l.category}: got ${keyOf.get(p.customerId)} ${got.join(',')} expected ${l.expected ? `${l.expected.customer} ${l.expected.invoices.join(',')}` : 'no match'} — ${describeProposal(p, 'en', 'EUR')}`);
      }
    });
    const precision = auto ? right / auto : 1;
    const recall = right / answerable;
    const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
    const table = [...perCategory]
      .sort()
      .map(([c, s]) => `  ${c.padEnd(20)} ${String(s.n).padStart(4)} lines  ${String(s.auto).padStart(4)} auto  ${String(s.right).padStart(4)} right`)
      .join('\n');
    process.stdout.write(
      `\nreconciliation golden: ${golden.lines.length} lines, ${answerable} with a right answer, ${auto} matched automatically, ${right} right\n` +
        `  precision ${pct(precision)} (target >= 99.5 %), recall ${pct(recall)} (target >= 90 %)\n${table}\n` +
        (wrong.length ? `  wrong automatic matches:\n    ${wrong.join('\n    ')}\n` : ''),
    );
    expect(precision).toBeGreaterThanOrEqual(0.995);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });
});
