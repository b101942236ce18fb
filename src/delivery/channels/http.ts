/**
 * HTTP for provider adapters: a request that tells a refused connection (nothing was sent: safe to
 * retry) from a lost answer (the provider may have it: uncertain), and answers with the status and
 * body otherwise. Classification of the status is classifyHttpResult (src/domain/delivery.ts).
 */
import { classifyHttpResult, type SendOutcome } from '../../domain/delivery.ts';

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Headers;
}

/** A failed request as an outcome: temporary when nothing left, uncertain when it may have. */
export function requestFailure(e: unknown): SendOutcome {
  const code = (e as { cause?: { code?: string } }).cause?.code;
  const requestSent = !(code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN');
  return classifyHttpResult({ requestSent, error: `${code ?? ''} ${(e as Error).message}`.trim() })!;
}

export async function request(
  fetchImpl: typeof fetch,
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string | FormData | URLSearchParams; timeoutMs: number },
): Promise<HttpAnswer | SendOutcome> {
  let res: Response;
  try {
    res = await fetchImpl(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(init.timeoutMs) });
  } catch (e) {
    return requestFailure(e);
  }
  return { status: res.status, body: await res.text().catch(() => ''), headers: res.headers };
}

/** A JSON POST. */
export function postJson(fetchImpl: typeof fetch, url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<HttpAnswer | SendOutcome> {
  return request(fetchImpl, url, { method: 'POST', ...init });
}

export const isOutcome = (r: HttpAnswer | SendOutcome): r is SendOutcome => 'kind' in r;
