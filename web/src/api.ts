/** Same-origin JSON calls to the API: the session cookie travels by itself, errors are RFC 9457 problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly where?: unknown,
  ) {
    super(message);
  }
}

export async function api<T = unknown>(path: string, opts: { method?: string; body?: unknown; form?: FormData; headers?: Record<string, string> } = {}): Promise<T> {
  const init: RequestInit = { method: opts.method ?? (opts.body !== undefined || opts.form ? 'POST' : 'GET'), credentials: 'same-origin', headers: { ...opts.headers } };
  if (opts.form) init.body = opts.form;
  else if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const p = (typeof data === 'object' && data) as { code?: string; detail?: string; where?: unknown } | false;
    if (res.status === 401 && !path.startsWith('/api/auth/') && location.pathname !== '/login' && location.pathname !== '/setup') {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(res.status, (p && p.code) || 'internal', (p && p.detail) || String(data) || res.statusText, p ? p.where : undefined);
  }
  return data as T;
}

/**
 * A file from the API saved by the browser; a refusal (a problem) is thrown as an ApiError with
 * its detail, for the screen to show, instead of a page of JSON.
 */
export async function downloadFile(path: string): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) {
    const p = (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as { code?: string; detail?: string; where?: unknown }) : null;
    throw new ApiError(res.status, p?.code ?? 'internal', p?.detail ?? res.statusText, p?.where);
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? path.split('/').pop()!;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Query-string from an object, skipping empty values. */
export function qs(params: Record<string, string | number | boolean | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
