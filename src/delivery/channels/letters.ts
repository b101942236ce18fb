/**
 * Letters: the simple letter and the registered letter (lettre recommandée avec accusé de
 * réception, or its online equivalent) share their rendering, the PDF of the step's letter with
 * the customer's postal address. A simple letter goes to the day's print batch (`relance letters`):
 * nothing leaves until someone posts it, so it is `exported` until confirmed. A registered letter
 * goes through its provider (./registered.ts).
 */
import { CHANNEL_SPECS } from '../../domain/channels.ts';
import type { Channel, ChannelRenderInput, ContactRow, ProviderDef, RenderedLetter, Transport } from './types.ts';
import { PermanentContentError } from './types.ts';

export function pickPostalContact(contacts: ContactRow[]): ContactRow {
  const c = contacts.find((x) => x.addressLine1 && x.postalCode && x.city);
  if (!c) throw new PermanentContentError('the customer has no complete postal address', true);
  return c;
}

export async function renderLetter(channel: 'letter' | 'registered_letter', x: ChannelRenderInput): Promise<RenderedLetter> {
  const c = x.contact;
  const name = x.composed.vars.customer.name;
  const lines = [c.name, ...(name !== c.name ? [name] : []), c.addressLine1!, ...(c.addressLine2 ? [c.addressLine2] : []), `${c.postalCode} ${c.city}`];
  if (c.country && c.country !== 'FR') lines.push(c.country);
  return {
    channel,
    subject: x.composed.subject ?? '',
    pdf: x.composed.pdf!,
    address: {
      name,
      attention: c.name && c.name !== name ? c.name : null,
      street: c.addressLine1!,
      street2: c.addressLine2 ?? null,
      postalCode: c.postalCode!,
      city: c.city!,
      country: c.country ?? null,
      lines,
    },
    recipients: { address: lines },
    invoices: x.invoices,
  };
}

export const letterContent = (r: RenderedLetter) => ({ recipients: r.recipients, subject: r.subject, messageId: null, contentType: 'application/pdf', content: r.pdf });

/** The print batch: the letter is stored with the day's batch; handing it over is all there is. */
const printBatch: ProviderDef<RenderedLetter> = {
  key: 'print-batch',
  label: { fr: 'Lot d’impression du jour (à poster soi-même)', en: 'The day’s print batch (posted by hand)' },
  local: true,
  handOverOnly: true,
  fields: [],
  open: (): Transport<RenderedLetter> => ({
    name: 'print-batch',
    async send(_m, handOver) {
      await handOver();
      return { kind: 'exported', providerMessageId: null, location: 'print batch' };
    },
  }),
};

export const letterChannel: Channel<RenderedLetter, RenderedLetter> = {
  key: 'letter',
  spec: CHANNEL_SPECS.letter,
  pickContact: pickPostalContact,
  render: (x) => renderLetter('letter', x),
  delivery: {
    providers: [printBatch],
    message: (r) => r,
    content: letterContent,
  },
};
