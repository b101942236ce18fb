import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';
import type { Lang } from './i18n.tsx';

export type Role = 'admin' | 'collector' | 'viewer';

export interface Me {
  user: { id: string; email: string; name: string | null; language: Lang; role: Role };
  organisation: { id: string; legalName: string; currency: string; timeZone: string };
  today: string;
}

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/api/app/me'), staleTime: 60_000 });
}

/** What a role may do in the interface (the server checks again on every call). */
export function can(me: Me | undefined, what: 'write' | 'admin'): boolean {
  const role = me?.user.role;
  if (what === 'admin') return role === 'admin';
  return role === 'admin' || role === 'collector';
}
