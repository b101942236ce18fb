/** A stored .eml read back to be shown (src/delivery/eml.ts). */
export interface ParsedEml {
  subject: string;
  from: string;
  to: string;
  /** The Date header as written. */
  date: string;
  html: string | null;
  text: string | null;
  attachments: { filename: string; contentType: string; size: number }[];
}
