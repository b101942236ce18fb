/**
 * /api/v1/inbound: mail that came back (a bounce, an automatic reply, a customer's reply) handed
 * over as the raw message (.eml bytes), by a mail server's pipe or a mailbox poller. The same code
 * as `relance inbound`: src/delivery/inbound.ts.
 */
import { z } from 'zod';
import { ingestInbound } from '../../delivery/inbound.ts';
import { route, type RouteDef } from './define.ts';

const IdOrNull = z.string().regex(/^\d+$/).nullable();

export const InboundResponse = z.object({
  inboundId: z.string().regex(/^\d+$/).meta({ description: 'the message as kept (inbound_messages)' }),
  duplicate: z.boolean().meta({ description: 'the same message was already received: nothing was done again' }),
  kind: z.enum(['bounce_hard', 'bounce_soft', 'delivered', 'auto_reply', 'reply']),
  matched: z.boolean().meta({ description: 'tied to a message Relance sent (else kept as unmatched)' }),
  matchedBy: z.enum(['message_id', 'action_header', 'reply_address']).nullable(),
  customerId: IdOrNull,
  actionId: IdOrNull,
  deliveryId: IdOrNull,
  recipients: z.array(z.object({ address: z.string(), action: z.string(), status: z.string().nullable(), diagnostic: z.string().nullable() })),
  invalidated: z.array(z.string()).meta({ description: 'addresses marked invalid by a hard bounce' }),
  fallbackId: IdOrNull.meta({ description: 'the action queued on the fallback channel after a hard bounce' }),
  noteId: IdOrNull.meta({ description: "the note put on the customer's timeline for a reply" }),
  from: z.string().nullable(),
  subject: z.string().nullable(),
});

export const inboundRoutes: RouteDef[] = [
  route({
    method: 'post',
    path: '/api/v1/inbound',
    operationId: 'ingestInboundMessage',
    summary:
      "Hand over a message that came back (bounce, automatic reply, customer's reply) as its raw bytes: tied to the message it answers by Message-ID or the case's reply address; a hard bounce marks the address invalid and moves the step to its fallback channel, a reply goes on the customer's timeline",
    tag: 'delivery',
    scope: 'write',
    rawBody: { contentTypes: ['message/rfc822', 'application/octet-stream'] },
    response: InboundResponse,
    status: 200,
    handler: async ({ q, orgId, raw, now }) => ingestInbound(q, orgId, raw, now),
  }),
];
