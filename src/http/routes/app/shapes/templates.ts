/**
 * The template editor's answers (src/http/routes/app/templates.ts), as web/src/screens/Templates.tsx
 * reads them. The variables are documented in src/documents/variables.ts.
 */
import type { VarDoc } from '../../../../documents/variables.ts';

export type { VarDoc };

/** GET /api/app/templates: the templates, the parts of each channel, the variables. */
export interface TemplateListResponse {
  templates: { key: string; label: { fr: string; en: string }; channels: readonly string[]; overridden: string[] }[];
  /** The parts a channel's template is made of (subject, html, text, body, script). */
  parts: Record<string, readonly string[]>;
  variables: Record<string, VarDoc>;
}

/** GET /api/app/templates/:key/:channel/:lang: each part, the organisation's own or the built-in one. */
export interface TemplateSourcesResponse {
  key: string;
  channel: string;
  lang: 'fr' | 'en';
  parts: Record<string, { source: string; builtIn: string; overridden: boolean }>;
}

/** POST /api/app/templates/preview: a draft rendered on the sample documents, and its errors by part. */
export interface TemplatePreviewResponse {
  errors: { part: string; message: string; line: number | null }[];
  subject: string | null;
  html: string | null;
  text: string | null;
  body: string | null;
  /** The letter as PDF, base64. */
  pdf: string | null;
}
