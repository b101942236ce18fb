import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';
import type { MeResponse, Role } from '../../src/http/routes/app/shapes/session.ts';

export type { Role };
export type Me = MeResponse;

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/api/app/me'), staleTime: 60_000 });
}

/** What a role may do in the interface (the server checks again on every call). */
export function can(me: Me | undefined, what: 'write' | 'admin'): boolean {
  const role = me?.user.role;
  if (what === 'admin') return role === 'admin';
  return role === 'admin' || role === 'collector';
}
