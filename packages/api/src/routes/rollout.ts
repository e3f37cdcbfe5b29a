import { route } from '../contract.ts';
import { RolloutDoc, StartRolloutRequest } from '../rollout.ts';

/**
 * Rolling refresh (issue 18): each route answers the application's roll-out as it is now.
 * A roll-out with a command gate needs admin (checked by the route).
 */
export const ROLLOUT_ROUTES = {
  'POST /api/models/:model/applications/:app/rollout': route({ access: 'write', body: StartRolloutRequest, response: RolloutDoc }),
  'GET /api/models/:model/applications/:app/rollout': route({ access: 'read', response: RolloutDoc }),
  'POST /api/models/:model/applications/:app/rollout/resume': route({ access: 'write', response: RolloutDoc }),
  'POST /api/models/:model/applications/:app/rollout/rollback': route({ access: 'write', response: RolloutDoc }),
} as const;
