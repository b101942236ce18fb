-- The organisation's sending options: the window, the holiday calendar, working days only. A
-- scenario follows them unless it sets its own (src/domain/engine/sending.ts). Until now the
-- settings wrote them into every scenario: the default scenario's become the organisation's, and
-- a scenario whose value is the organisation's follows it from now on.
ALTER TABLE engine_settings
  ADD COLUMN window_start text NOT NULL DEFAULT '09:00' CHECK (window_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  ADD COLUMN window_end text NOT NULL DEFAULT '18:00' CHECK (window_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  ADD COLUMN holiday_calendar text NOT NULL DEFAULT 'FR' CHECK (length(holiday_calendar) BETWEEN 1 AND 40),
  ADD COLUMN working_days_only boolean NOT NULL DEFAULT true;
ALTER TABLE engine_settings ADD CONSTRAINT engine_settings_window CHECK (window_start < window_end);

INSERT INTO engine_settings (organisation_id) SELECT organisation_id FROM scenarios ON CONFLICT (organisation_id) DO NOTHING;

WITH d AS (
  SELECT DISTINCT ON (organisation_id) organisation_id, definition -> 'options' AS o
    FROM scenarios ORDER BY organisation_id, is_default DESC, id
)
UPDATE engine_settings e
   SET window_start = CASE WHEN d.o #>> '{window,start}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' AND d.o #>> '{window,end}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                            AND d.o #>> '{window,start}' < d.o #>> '{window,end}' THEN d.o #>> '{window,start}' ELSE e.window_start END,
       window_end = CASE WHEN d.o #>> '{window,start}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' AND d.o #>> '{window,end}' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                          AND d.o #>> '{window,start}' < d.o #>> '{window,end}' THEN d.o #>> '{window,end}' ELSE e.window_end END,
       holiday_calendar = coalesce(nullif(d.o ->> 'holidayCalendar', ''), e.holiday_calendar),
       working_days_only = CASE WHEN jsonb_typeof(d.o -> 'workingDaysOnly') = 'boolean' THEN (d.o ->> 'workingDaysOnly')::boolean ELSE e.working_days_only END
  FROM d WHERE d.organisation_id = e.organisation_id;

UPDATE scenarios s SET definition = s.definition #- '{options,window}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #>> '{options,window,start}' = e.window_start AND s.definition #>> '{options,window,end}' = e.window_end;
UPDATE scenarios s SET definition = s.definition #- '{options,holidayCalendar}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #>> '{options,holidayCalendar}' = e.holiday_calendar;
UPDATE scenarios s SET definition = s.definition #- '{options,workingDaysOnly}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #> '{options,workingDaysOnly}' = to_jsonb(e.working_days_only);

UPDATE scenario_versions s SET definition = s.definition #- '{options,window}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #>> '{options,window,start}' = e.window_start AND s.definition #>> '{options,window,end}' = e.window_end;
UPDATE scenario_versions s SET definition = s.definition #- '{options,holidayCalendar}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #>> '{options,holidayCalendar}' = e.holiday_calendar;
UPDATE scenario_versions s SET definition = s.definition #- '{options,workingDaysOnly}' FROM engine_settings e
 WHERE e.organisation_id = s.organisation_id AND s.definition #> '{options,workingDaysOnly}' = to_jsonb(e.working_days_only);
