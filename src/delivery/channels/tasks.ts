/**
 * Channels that make a task for the team rather than a message: a call (with its script, the
 * numbers to call and the open invoices) and a manual step. The worker puts them on the task list
 * of the settings' call assignee (call_tasks), once per action.
 */
import { CHANNEL_SPECS } from '../../domain/channels.ts';
import type { Channel, ContactRow, RenderedTask } from './types.ts';

const phonesOf = (contacts: ContactRow[]) => contacts.flatMap((c) => (c.phone && !c.invalidPhone ? [c.phone] : []));

export const callChannel: Channel<RenderedTask> = {
  key: 'call_task',
  spec: CHANNEL_SPECS.call_task,
  task: true,
  pickContact: (contacts) => contacts[0],
  async render(x) {
    const phones = phonesOf(x.contacts);
    return { channel: 'call_task', subject: x.composed.subject, script: x.composed.text ?? '', phones, recipients: { phones }, invoices: x.invoices };
  },
};

/** A manual step has no document: its script names the step and the invoices. */
export function manualTask(template: string, invoiceNumbers: string[], contacts: ContactRow[]): RenderedTask {
  return {
    channel: 'manual_task',
    subject: null,
    script: `${template}: ${invoiceNumbers.join(', ')}`,
    phones: contacts.flatMap((c) => (c.phone ? [c.phone] : [])),
    recipients: {},
    invoices: [],
  };
}

export const manualChannel: Channel<RenderedTask> = {
  key: 'manual_task',
  spec: CHANNEL_SPECS.manual_task,
  task: true,
  pickContact: (contacts) => contacts[0],
  render: async (x) => manualTask(x.key, x.invoices.map((i) => i.number), x.contacts),
};
