/** /api/v1 credit policy and risk: orders announced (exposure), the stricter scenarios of the credit policy. */
import { z } from 'zod';
import { parseAmount } from '../../domain/money.ts';
import { POLICY_TRIGGERS } from '../../domain/credit-policy.ts';
import { announceOrder, closeOrder, listPolicyScenarios, setPolicyScenario } from '../../risk/credit.ts';
import { ensureBuiltinScenarios } from '../../engine/scenarios.ts';
import { Currency, DecimalAmount, Id, IdParams, MinorString, route, type RouteDef } from './define.ts';
import { computeRisk } from '../../risk/behaviour.ts';
import { customerExpectedRecovery } from '../../risk/recovery.ts';
import { cashInForecast } from '../../risk/forecast.ts';
import { nonPaymentReasons, stepEffectiveness } from '../../risk/effectiveness.ts';
import { replayScenario } from '../../risk/replay.ts';
import { RECOVERY_BUCKETS } from '../../domain/recovery.ts';
import { riskLevelText, riskReasonText } from '../../domain/risk.ts';
import { getCustomer } from '../../ledger/repo.ts';
import { langOf } from '../../i18n/index.ts';

const Risk = z.object({
  customerId: z.string(),
  computedOn: z.string(),
  score: z.number().int().min(0).max(100),
  level: z.enum(['low', 'medium', 'high']),
  levelText: z.string(),
  reasons: z.array(z.object({ key: z.string(), points: z.number(), vars: z.record(z.string(), z.number()), text: z.string() })),
  behaviour: z.object({
    daysLate: z.object({ all: z.number().nullable(), last6: z.number().nullable(), last12: z.number().nullable() }),
    settledCount: z.number(),
    paidAfterReminders: z.array(z.number()).describe('invoices settled with 0, 1, 2, 3 or more reminders before payment'),
    openMinor: MinorString,
    overdueMinor: MinorString,
    overdue90Minor: MinorString,
    oldestDaysPastDue: z.number(),
    promisesKept: z.number(),
    promisesBroken: z.number(),
    disputes: z.number(),
    disputesOpen: z.number(),
  }),
});

const Order = z.object({
  id: z.string(),
  customerId: z.string(),
  externalId: z.string(),
  currency: z.string(),
  amountMinor: MinorString,
  announcedOn: z.string(),
  closedOn: z.string().nullable(),
});
const Alert = z.object({ customerId: z.string(), exposureMinor: MinorString, creditLimitMinor: MinorString, raisedOn: z.string() });
const PolicyScenarios = z.object({
  scenarios: z.array(z.object({ trigger: z.enum(POLICY_TRIGGERS), scenarioKey: z.string(), scenarioName: z.string() })),
});
const ScenarioKey = z.string().min(1).max(100).nullable().optional();

export const riskRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/reports/replay', operationId: 'replayScenario',
    summary: "What a scenario would have done on last year's invoices (each leaving on the day it was actually paid): actions by channel and tone, invoices chased; beside what was actually sent", tag: 'reports', scope: 'read',
    query: z.object({ scenario: z.string().min(1).max(100) }), errors: [404],
    response: z.object({
      scenario: z.string(), from: z.string(), to: z.string(), invoices: z.number(),
      wouldHave: z.object({ actions: z.number(), byChannel: z.record(z.string(), z.number()), byTone: z.record(z.string(), z.number()), invoicesChased: z.number() }),
      actually: z.object({ actions: z.number(), byChannel: z.record(z.string(), z.number()) }),
    }),
    handler: async ({ q, orgId, query, today }) => replayScenario(q, orgId, query.scenario, today),
  }),
  route({
    method: 'get', path: '/api/v1/reports/steps', operationId: 'getStepEffectiveness',
    summary: 'For each scenario step, the share of the invoices it chased that were paid in full within 7 days after it went out', tag: 'reports', scope: 'read',
    response: z.object({ steps: z.array(z.object({ scenario: z.string(), stepOffset: z.number(), channel: z.string(), tone: z.string(), invoices: z.number(), paidWithin7Days: z.number(), share: z.number() })) }),
    handler: async ({ q, orgId, today }) => ({ steps: await stepEffectiveness(q, orgId, today) }),
  }),
  route({
    method: 'get', path: '/api/v1/reports/non-payment-reasons', operationId: 'getNonPaymentReasons',
    summary: 'Reasons for non-payment recorded in call outcomes (coded) and disputes (as typed), most frequent first', tag: 'reports', scope: 'read',
    response: z.object({ reasons: z.array(z.object({ source: z.enum(['call', 'dispute']), reason: z.string(), count: z.number(), customers: z.number() })) }),
    handler: async ({ q, orgId }) => ({ reasons: await nonPaymentReasons(q, orgId) }),
  }),
  route({
    method: 'get', path: '/api/v1/forecast', operationId: 'getCashInForecast',
    summary: 'Expected cash-in by week for 13 weeks (due dates moved by each customer’s habit, chance of payment, promises, plans), beside the naive forecast by due dates, with the back-test error (WAPE) of both on the organisation’s history', tag: 'credit', scope: 'read',
    response: z.object({
      from: z.string(),
      weeks: z.array(z.object({ from: z.string(), expectedMinor: MinorString, naiveMinor: MinorString })),
      backtest: z.object({ origins: z.number(), wape: z.number().nullable(), naiveWape: z.number().nullable() }),
    }),
    handler: async ({ q, orgId, today }) => {
      const f = await cashInForecast(q, orgId, today);
      return { from: f.from, weeks: f.weeks, backtest: { origins: f.backtest.origins.length, wape: f.backtest.wape, naiveWape: f.backtest.naiveWape } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}/expected-recovery', operationId: 'getExpectedRecovery',
    summary: "A customer's open invoices with P(paid | days overdue, customer history), calibrated on the organisation's history (prior: ~90 % within three months, ~10 % after a year), and the expected amount", tag: 'credit', scope: 'read',
    params: IdParams, errors: [404],
    response: z.object({
      calibration: z.array(z.object({ fromDaysOverdue: z.number(), probability: z.number(), reached: z.number(), recovered: z.number() })),
      invoices: z.array(z.object({ invoiceId: z.string(), number: z.string(), dueDate: z.string(), daysOverdue: z.number(), openMinor: MinorString, currency: z.string(), probability: z.number(), expectedMinor: MinorString })),
      expectedMinor: MinorString,
    }),
    handler: async ({ q, orgId, params, today }) => {
      const id = BigInt(params.id);
      await getCustomer(q, orgId, id);
      const { calibration, invoices } = await customerExpectedRecovery(q, orgId, id, today);
      return {
        calibration: RECOVERY_BUCKETS.map((from, k) => ({ fromDaysOverdue: Math.max(from, 0), probability: Math.round(calibration.p[k]! * 10_000) / 10_000, ...calibration.observed[k]! })),
        invoices: invoices.map(({ customerId: _c, ...x }) => x),
        expectedMinor: invoices.reduce((s, x) => s + x.expectedMinor, 0n),
      };
    },
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}/risk', operationId: 'getCustomerRisk',
    summary: "A customer's payment behaviour (weighted days late, trend, share paid after each reminder, promises, disputes) and risk score with its reasons in words (Accept-Language fr or en)", tag: 'credit', scope: 'read',
    params: IdParams, response: Risk, errors: [404],
    handler: async ({ q, orgId, params, today, c }) => {
      const id = BigInt(params.id);
      await getCustomer(q, orgId, id);
      const [r] = await computeRisk(q, orgId, today, [id]);
      const lang = langOf(c.req.header('accept-language')) ?? 'en';
      return {
        customerId: String(id), computedOn: today, score: r!.score, level: r!.level, levelText: riskLevelText(r!.level, lang),
        reasons: r!.reasons.map((x) => ({ ...x, text: riskReasonText(x, lang) })), behaviour: r!.behaviour,
      };
    },
  }),
  route({
    method: 'post', path: '/api/v1/orders', operationId: 'announceOrder',
    summary: "Announce an order not invoiced yet: it counts in the customer's exposure until closed (same externalId: its amount is updated)", tag: 'credit', scope: 'write',
    body: z.object({ customerId: Id, externalId: z.string().min(1).max(100), amount: DecimalAmount, currency: Currency.optional() }),
    response: z.object({ order: Order, creditLimitExceeded: Alert.nullable() }), errors: [404],
    handler: async ({ q, orgId, org, body, today }) => {
      const currency = body.currency ?? org.currency;
      const { order, alert } = await announceOrder(
        q, orgId,
        { customerId: BigInt(body.customerId), externalId: body.externalId, currency, amountMinor: parseAmount(body.amount, currency, { field: 'amount' }), orgCurrency: org.currency },
        today,
      );
      return { order, creditLimitExceeded: alert ? { customerId: String(alert.customerId), exposureMinor: alert.exposureMinor, creditLimitMinor: alert.limitMinor, raisedOn: alert.raisedOn } : null };
    },
  }),
  route({
    method: 'post', path: '/api/v1/orders/{id}/close', operationId: 'closeOrder', summary: 'The order was invoiced or cancelled: it leaves the exposure', tag: 'credit', scope: 'write',
    params: IdParams, response: Order, errors: [404],
    handler: async ({ q, orgId, params, today }) => closeOrder(q, orgId, BigInt(params.id), today),
  }),
  route({
    method: 'get', path: '/api/v1/credit-policy', operationId: 'getCreditPolicy', summary: 'The stricter scenarios for customers over their limit or in a risk class', tag: 'credit', scope: 'read',
    response: PolicyScenarios,
    handler: async ({ q, orgId }) => ({ scenarios: await listPolicyScenarios(q, orgId) }),
  }),
  route({
    method: 'put', path: '/api/v1/credit-policy', operationId: 'setCreditPolicy',
    summary: 'Choose the stricter scenario (by key) for customers over their limit (overLimit) or in a risk class (medium, high); null removes it, absent keeps it', tag: 'credit', scope: 'admin',
    body: z
      .object({ overLimit: ScenarioKey, medium: ScenarioKey, high: ScenarioKey })
      .refine((b) => b.overLimit !== undefined || b.medium !== undefined || b.high !== undefined, { message: 'give overLimit, medium or high', path: ['overLimit'] }), response: PolicyScenarios, errors: [404],
    handler: async ({ q, orgId, org, body }) => {
      await ensureBuiltinScenarios(q, orgId, org.language);
      for (const [trigger, key] of [['over_limit', body.overLimit], ['medium', body.medium], ['high', body.high]] as const) {
        if (key !== undefined) await setPolicyScenario(q, orgId, trigger, key);
      }
      return { scenarios: await listPolicyScenarios(q, orgId) };
    },
  }),
];
