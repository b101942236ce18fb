-- Documents: an organisation's own versions of the built-in templates, and its branding.
-- A template row replaces one part of one built-in template (key, language, channel, part); the
-- application validates the source before saving (unknown variable or syntax error refused).

CREATE TABLE document_templates (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  key             text NOT NULL CHECK (key ~ '^[a-z0-9_]{1,40}$'),
  lang            text NOT NULL CHECK (lang IN ('fr', 'en')),
  channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'call')),
  part            text NOT NULL CHECK (part IN ('subject', 'html', 'text', 'body', 'script')),
  source          text NOT NULL CHECK (length(source) BETWEEN 1 AND 200000),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, key, lang, channel, part)
);

CREATE TABLE document_branding (
  organisation_id       uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  colour                text NOT NULL DEFAULT '#1F4E79' CHECK (colour ~ '^#[0-9A-Fa-f]{6}$'),
  logo_document_id      bigint,
  signature_document_id bigint,
  signatory_name        text,
  signatory_title       text,
  footer                text,
  email                 text,
  phone                 text,
  website               text,
  place                 text,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (organisation_id, logo_document_id) REFERENCES documents (organisation_id, id),
  FOREIGN KEY (organisation_id, signature_document_id) REFERENCES documents (organisation_id, id)
);
