/** The customer list (GET /api/app/customers), as src/http/routes/app/customers.ts answers and web/src/screens/Customers.tsx reads it. */

export interface CustomerListRow {
  id: string;
  name: string;
  externalId: string | null;
  kind: 'business' | 'consumer';
  siren: string | null;
  tags: string[];
  segment: string | null;
  /** Live balances of the rows shown (the snapshot only orders them). */
  openMinor: string;
  overdueMinor: string;
  openInvoices: number;
  daysPastDue: number;
  currency: string | null;
}

export interface CustomerListResponse {
  total: number;
  page: number;
  size: number;
  rows: CustomerListRow[];
}
