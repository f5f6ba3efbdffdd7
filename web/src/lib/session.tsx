import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Session } from './client';

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('no session');
  return session;
}

export function useConnection() {
  const session = useSession();
  return useSyncExternalStore(session.onConnection, session.connection);
}
