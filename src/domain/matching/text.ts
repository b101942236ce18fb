

// Most texts are plain ASCII: skip the (costly) Unicode normalisation for them.
export const stripAccents = (s: string) => (/[^\x00-\x7f]/.test(s) ? s.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : s);
export const invoiceKey = (number: string) => stripAccents(number).toUpperCase().replace(/[^A-Z0-9]/g, '');
export const digitKey = (s: string) => s.replace(/\D/g, '').replace(/^0+/, '');

export interface Token {
  text: string;
  start: number;
  end: number;
}

/** Runs of letters or of digits: "FACT.F2026-00123" -> FACT, F, 2026, 00123. */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /[A-Z]+|\d+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Tokens belong to one written identifier when nothing or a single separator lies between them. */
export const joinable = (text: string, a: Token, b: Token) => b.start - a.end <= 1 && (b.start === a.end || /[-/._ ]/.test(text[a.end]!));

export const LEGAL_NOISE = new Set(
  'SARL SAS SASU SA EURL SCI SNC SCP SELARL SELAS STE SOCIETE ETS ETABLISSEMENTS CIE ET DE DU DES LA LE LES L D M MR MME MLLE MONSIEUR MADAME LTD GMBH INC SRL BV VIR SEPA RECU VIREMENT INST DE PAR'.split(' '),
);

export function nameTokens(name: string): string[] {
  return stripAccents(name)
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w.length > 0 && !LEGAL_NOISE.has(w));
}

export function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < s.length - 1; i++) {
    const g = s.slice(i, i + 2);
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

export function dice(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const ga = bigrams(a);
  const gb = bigrams(b);
  let inter = 0;
  for (const [g, n] of ga) inter += Math.min(n, gb.get(g) ?? 0);
  return (2 * inter) / (a.length - 1 + (b.length - 1));
}

/**
 * How alike a payer's name is to a customer's, 0..1: legal forms and civilities dropped, word
 * order ignored, and a bank's truncation of a long name ("ETABLISSEMENTS BERNARD ET FI") forgiven.
 */
export function nameSimilarity(payer: string, customer: string): number {
  const a = nameTokens(payer);
  const b = nameTokens(customer);
  if (a.length === 0 || b.length === 0) return 0;
  const sa = [...a].sort().join(' ');
  const sb = [...b].sort().join(' ');
  const ja = a.join(' ');
  const jb = b.join(' ');
  let best = Math.max(dice(sa, sb), dice(ja, jb));
  // Truncated by the bank: the payer's text is a long-enough prefix of the customer's name.
  if (ja.length >= 8 && jb.startsWith(ja)) best = Math.max(best, 0.92);
  if (jb.length >= 8 && ja.startsWith(jb)) best = Math.max(best, 0.92);
  return best;
}

/** Share of the customer's name words found in a free text (a label that embeds the payer name). */
export function nameInText(textTokens: Set<string>, customer: string): number {
  const b = nameTokens(customer);
  if (b.length === 0) return 0;
  const hits = b.filter((w) => textTokens.has(w)).length;
  return hits / b.length;
}
