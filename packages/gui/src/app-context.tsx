import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { GuiModel } from '@sigil/api';
import type { Api } from './api/client.ts';
import type { ModelFeed } from './store/feed.ts';
import type { ReplicaList } from './store/failover.ts';

export interface AppCtx {
  api: Api;
  model: string;
  feed: ModelFeed;
  /** The controller's processes, and which served the page. */
  replicas: ReplicaList;
  /** Who is logged in. */
  user: string;
  /**
   * The user may change this model. Read users see no control that changes it (the server
   * refuses those calls anyway); the page shows the model as it is.
   */
  canWrite: boolean;
  /** A controller admin: may read the audit trail (the server refuses anyone else anyway). */
  superuser: boolean;
  logout(): void;
  /** Shows an error (with its hint) to the user. */
  report(e: unknown): void;
  notify(message: string): void;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (c === null) throw new Error('useApp outside <Ctx.Provider>');
  return c;
}

/**
 * The model as the feed has it now; re-renders on every applied batch. The feed starts
 * before React, so this must also catch a batch applied before it subscribed, which
 * useSyncExternalStore does.
 */
export function useModel(feed: ModelFeed): GuiModel | undefined {
  const subscribe = useCallback((cb: () => void) => feed.subscribe(cb), [feed]);
  useSyncExternalStore(subscribe, () => feed.version);
  return feed.state.model;
}
