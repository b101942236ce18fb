/**
 * Today's worklist (GET /api/app/today) and the actions' decisions, as src/http/routes/app/today.ts
 * answers them and web/src/screens/Today.tsx reads them.
 */
import type { CalendarDate } from '../../../../domain/dates.ts';
import type { ActionStatus } from '../../../../domain/delivery.ts';
import type { RateWarning } from '../../../../domain/law/index.ts';
import type { BankHold } from './common.ts';

/** An action waiting for approval or in trouble (delivery/outbox.ts OutboxRow), with what it asks for. */
export interface ActionRow {
  id: string;
  customerId: string;
  customerName: string;
  channel: string;
  template: string;
  tone: string;
  status: ActionStatus;
  statusReason: string | null;
  plannedOn: CalendarDate;
  sendAfter: string;
  nextAttemptAt: string | null;
  attempts: number;
  holdReason: string | null;
  lastError: string | null;
  sentAt: string | null;
  providerMessageId: string | null;
  invoices: string[];
  openMinor: string;
  /** What the action may bring in: open amount × chance of being paid (issue 22). */
  expectedMinor: string;
  currency: string;
}

export interface CallRow {
  id: string;
  kind: 'call' | 'manual';
  actionId: string;
  customerId: string;
  customerName: string;
  script: string | null;
  /** The step's template: a manual task's script is "<template>: <invoice numbers>", shown through its label. */
  template: string | null;
  phones: string[];
  invoices: { id: string; number: string; dueDate?: string; open?: string; openMinor?: string; currency?: string }[];
  dueOn: CalendarDate;
  attempts: number;
  assignedTo: string | null;
  expectedMinor: string;
}

export interface TaskRow {
  id: string;
  kind: string;
  customerId: string;
  customerName: string;
  sourceId: string;
  dueOn: CalendarDate;
  note: string | null;
  promisedOn: CalendarDate | null;
  amountMinor: string | null;
  currency: string | null;
}

export interface TodayResponse {
  today: CalendarDate;
  bank: BankHold;
  rateWarnings: RateWarning[];
  sort: 'expected' | 'planned';
  approvals: ActionRow[];
  problems: ActionRow[];
  calls: CallRow[];
  brokenPromises: TaskRow[];
  missedInstalments: TaskRow[];
  /** Escalation deadlines (a claim to declare, a credit insurer to notify). */
  otherTasks: TaskRow[];
  disputes: { id: string; customerId: string; customerName: string; invoiceIds: string[] | null; invoice: string | null; reason: string; openedOn: CalendarDate }[];
  creditAlerts: { id: string; customerId: string; customerName: string; raisedOn: CalendarDate; exposureMinor: string; limitMinor: string; currency: string }[];
  /** Call steps queued until the calling window opens (sendAfter: when they become calls to make). */
  queuedCalls: ActionRow[];
  /** Notes whose follow-up day has come. */
  noteFollowups: { id: string; customerId: string; customerName: string; body: string; author: string; followUpOn: CalendarDate }[];
  followups: { id: string; kind: string; customerId: string; customerName: string; note: string | null; createdAt: string }[];
}

export interface ApproveResponse {
  approved: string[];
}
export interface CancelResponse {
  cancelled: string[];
}

/** One thing that happened on an account (GET /api/app/activity). code: the outcome, status, method or portal action. */
export interface ActivityItem {
  kind: 'call' | 'note' | 'promise' | 'dispute' | 'payment' | 'portal';
  id: string;
  at: string;
  customerId: string;
  customerName: string;
  code: string | null;
  text: string | null;
  by: string | null;
  amountMinor: string | null;
  currency: string | null;
}
export interface ActivityResponse {
  items: ActivityItem[];
}
