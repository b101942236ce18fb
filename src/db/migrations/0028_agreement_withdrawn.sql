-- An operator who resumes the reminders of a promise or a payment plan ends the agreement with it:
-- the promise or plan is withdrawn, so the daily cycle no longer judges it kept or broken (a
-- "broken promise" task for a promise the controller had set aside was a false alarm).
ALTER TABLE promises DROP CONSTRAINT promises_status_check;
ALTER TABLE promises ADD CONSTRAINT promises_status_check CHECK (status IN ('open', 'kept', 'broken', 'withdrawn'));
ALTER TABLE payment_plans DROP CONSTRAINT payment_plans_status_check;
ALTER TABLE payment_plans ADD CONSTRAINT payment_plans_status_check CHECK (status IN ('active', 'completed', 'broken', 'withdrawn'));

ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_type_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_type_check
  CHECK (type IN ('invoice.paid', 'invoice.overdue', 'action.sent', 'action.exported', 'action.failed',
                  'promise.created', 'promise.kept', 'promise.broken', 'promise.withdrawn',
                  'payment_plan.created', 'payment_plan.completed', 'payment_plan.broken', 'payment_plan.withdrawn',
                  'dispute.opened', 'dispute.resolved', 'pause.created', 'pause.lifted',
                  'customer.suspension_recommended', 'case.escalated', 'customer.credit_limit_exceeded', 'webhook.test'));
