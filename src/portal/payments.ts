/**
 * Payment links of the portal: one contract, adapters behind it, none by default
 * (docs/payments.md). The portal's "pay online" button asks the organisation's adapter for a
 * payment page for the amount still owed in one currency, then sends the customer there. What is
 * paid arrives like any payment: through the bank statement (the provider's payout) and the
 * reconciliation, never marked paid from the button alone.
 *
 * Stripe Checkout (Stripe is widely used by French SMEs), its documented API
 * (docs.stripe.com/api/checkout/sessions/create):
 *
 *   POST https://api.stripe.com/v1/checkout/sessions
 *   Authorization: Bearer sk_...     Idempotency-Key: <key>
 *   Content-Type: application/x-www-form-urlencoded
 *   mode=payment&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=123456
 *   &line_items[0][price_data][product_data][name]=...&line_items[0][quantity]=1
 *   &success_url=...&cancel_url=...&client_reference_id=...&metadata[...]=...
 *
 *   200 {"id": "cs_test_...", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_...", ...}
 *   4xx {"error": {"type": "invalid_request_error", "message": "..."}}
 *
 * unit_amount is in the currency's smallest unit: Relance's minor units as they are.
 */
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { decryptSecret, encryptSecret } from '../secrets.ts';
import type { PortalSettings } from './links.ts';

const E = defineErrors('portal-payments', {
  refused: { fr: 'le prestataire de paiement {provider} a refusé la demande ({status}) : {detail}', en: 'the payment provider {provider} refused the request ({status}): {detail}' },
  unreachable: { fr: 'le prestataire de paiement {provider} ne répond pas : {detail}', en: 'the payment provider {provider} does not answer: {detail}' },
  answer: { fr: 'le prestataire de paiement {provider} a répondu sans lien de paiement', en: 'the payment provider {provider} answered without a payment link' },
  secret: { fr: 'indiquez la clé secrète du compte {provider} (--secret-key)', en: 'give the secret key of the {provider} account (--secret-key)' },
});

/** What the portal asks an adapter for: a page where the customer pays this amount. */
export interface PaymentLinkRequest {
  /** Amount in minor units of `currency` (ISO 4217, upper case). */
  amountMinor: Minor;
  currency: string;
  /** What the customer reads on the provider's page ("Invoices F-1, F-2 — Menuiserie Martin"). */
  description: string;
  /** The customer's and invoices' identifiers, kept by the provider (reconciliation, its dashboard). */
  customerId: string;
  invoiceNumbers: string[];
  /** Where the provider sends the customer back: paid, or gave up. */
  successUrl: string;
  cancelUrl: string;
  /** The same request twice (reload, double click) gets the same page, not a second one. */
  idempotencyKey: string;
}

export interface PaymentLink {
  url: string;
  /** The provider's id of the page or session (kept on the portal event). */
  providerReference: string;
}

/** The contract every adapter fulfils. Errors are RelanceError (the portal shows the customer a sentence of its own). */
export interface PaymentLinkAdapter {
  readonly name: string;
  createLink(r: PaymentLinkRequest): Promise<PaymentLink>;
}

export const STRIPE_API = 'https://api.stripe.com';

export class StripeCheckout implements PaymentLinkAdapter {
  readonly name = 'stripe';
  constructor(
    private readonly secretKey: string,
    private readonly baseUrl: string = STRIPE_API,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async createLink(r: PaymentLinkRequest): Promise<PaymentLink> {
    const form = new URLSearchParams();
    form.set('mode', 'payment');
    form.set('line_items[0][price_data][currency]', r.currency.toLowerCase());
    form.set('line_items[0][price_data][unit_amount]', r.amountMinor.toString());
    form.set('line_items[0][price_data][product_data][name]', r.description.slice(0, 250));
    form.set('line_items[0][quantity]', '1');
    form.set('success_url', r.successUrl);
    form.set('cancel_url', r.cancelUrl);
    form.set('client_reference_id', r.customerId);
    form.set('metadata[relance_customer]', r.customerId);
    form.set('metadata[relance_invoices]', r.invoiceNumbers.join(',').slice(0, 500));
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl.replace(/\/+$/, '')}/v1/checkout/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.secretKey}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': r.idempotencyKey },
        body: form.toString(),
        signal: AbortSignal.timeout(20_000),
      });
    } catch (e) {
      throw new RelanceError(ERROR_CODES.CONFIG, E('unreachable', { provider: 'Stripe', detail: (e as Error).name }));
    }
    const text = await res.text();
    let j: { id?: unknown; url?: unknown; error?: { message?: unknown } } = {};
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      // no JSON: the status says enough
    }
    if (!res.ok) throw new RelanceError(ERROR_CODES.CONFIG, E('refused', { provider: 'Stripe', status: res.status, detail: String(j.error?.message ?? '').slice(0, 200) }));
    if (typeof j.url !== 'string' || !/^https?:\/\//.test(j.url) || typeof j.id !== 'string') throw new RelanceError(ERROR_CODES.CONFIG, E('answer', { provider: 'Stripe' }));
    return { url: j.url, providerReference: j.id };
  }
}

const secretContext = (orgId: string) => `${orgId}:portal_payment_secret`;

/** The settings to store for a provider: its secret sealed (src/secrets.ts), its API address when not the provider's own. */
export function paymentSettingsFor(orgId: string, provider: 'stripe', input: { secretKey?: string; apiUrl?: string | null }): Record<string, unknown> {
  if (!input.secretKey?.trim()) throw new RelanceError(ERROR_CODES.VALIDATION, E('secret', { provider }), { where: { field: '--secret-key' } });
  return { secretKey: encryptSecret(input.secretKey.trim(), secretContext(orgId), 'the payment provider key'), ...(input.apiUrl ? { apiUrl: input.apiUrl } : {}) };
}

/** The organisation's adapter, or null: none by default. */
export function paymentAdapterFor(orgId: string, s: PortalSettings, fetchImpl: typeof fetch = fetch): PaymentLinkAdapter | null {
  if (s.paymentProvider !== 'stripe') return null;
  const sealed = s.paymentSettings.secretKey;
  if (typeof sealed !== 'string') return null;
  const apiUrl = typeof s.paymentSettings.apiUrl === 'string' ? s.paymentSettings.apiUrl : STRIPE_API;
  return new StripeCheckout(decryptSecret(sealed, secretContext(orgId), 'the payment provider key'), apiUrl, fetchImpl);
}
