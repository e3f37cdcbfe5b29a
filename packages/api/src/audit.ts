/** One call in the audit trail, as `GET /api/audit` answers it. Never a request body: only what was called, on what, by whom. */
export interface AuditRecord {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  /** The user's name, `machine-N` (with its model) for an agent, or `-` for no valid credential. */
  user: string;
  address: string;
  method: string;
  /** The matched route pattern (`POST /api/models/:model/applications`), or the raw path of an unmatched call. */
  route: string;
  model: string;
  summary: string;
  /** The HTTP status the call got. */
  status: number;
}
