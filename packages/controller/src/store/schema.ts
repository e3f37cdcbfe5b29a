/**
 * The controller's SQLite schema. One database per controller; every row belongs to a
 * model. JSON columns hold small documents that are always read and written whole.
 * `change_log` is the spine of the design: every mutation appends to it in the same
 * transaction, and watchers resume from a revision.
 */
export const SCHEMA_VERSION = 1;

/** How many entries of one kind show-status-log keeps per entity (Juju prunes by age and size). */
export const STATUS_HISTORY_KEEP = 200;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS change_log (
  rev INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  name TEXT PRIMARY KEY, uuid TEXT NOT NULL, config TEXT NOT NULL, life TEXT NOT NULL,
  next_machine INTEGER NOT NULL DEFAULT 0, next_relation INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS charms (
  model TEXT NOT NULL, url TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL,
  hash TEXT NOT NULL, charm TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', PRIMARY KEY (model, url));
-- Where a collected charm came from (its codetree-collect-info.yaml checked against the uploaded
-- files), as JSON; a table of its own so controllers made before it gain it on start.
CREATE TABLE IF NOT EXISTS charm_provenance (
  model TEXT NOT NULL, url TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (model, url));
CREATE TABLE IF NOT EXISTS applications (
  model TEXT NOT NULL, name TEXT NOT NULL, charm_url TEXT NOT NULL, config TEXT NOT NULL,
  exposed INTEGER NOT NULL DEFAULT 0, constraints TEXT NOT NULL DEFAULT '', life TEXT NOT NULL,
  annotations TEXT NOT NULL DEFAULT '{}', status TEXT, leader TEXT,
  leader_settings TEXT NOT NULL DEFAULT '{}', leader_settings_version INTEGER NOT NULL DEFAULT 0,
  next_unit INTEGER NOT NULL DEFAULT 0, scale INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
  PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS units (
  model TEXT NOT NULL, name TEXT NOT NULL, app TEXT NOT NULL, machine TEXT, principal TEXT,
  life TEXT NOT NULL, workload TEXT NOT NULL, agent TEXT NOT NULL, ports TEXT NOT NULL DEFAULT '[]',
  version TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '{}', resolved TEXT NOT NULL DEFAULT '',
  settled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, name));
CREATE INDEX IF NOT EXISTS units_app ON units (model, app);
-- A machine's units (its agent's view, its log lines) are read by index, not by scanning the model.
CREATE INDEX IF NOT EXISTS units_machine ON units (model, machine);
-- A principal's subordinates (every machine view asks) by index too.
CREATE INDEX IF NOT EXISTS units_principal ON units (model, principal);
CREATE TABLE IF NOT EXISTS machines (
  model TEXT NOT NULL, id TEXT NOT NULL, life TEXT NOT NULL, address TEXT, instance_id TEXT,
  hostname TEXT, status TEXT NOT NULL, constraints TEXT NOT NULL DEFAULT '',
  auto_remove INTEGER NOT NULL DEFAULT 0, token_hash TEXT, created INTEGER NOT NULL,
  PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS relations (
  model TEXT NOT NULL, id INTEGER NOT NULL, key TEXT NOT NULL, life TEXT NOT NULL,
  endpoints TEXT NOT NULL, PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS relation_scopes (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, unit TEXT NOT NULL,
  PRIMARY KEY (model, relation_id, unit));
CREATE TABLE IF NOT EXISTS relation_settings (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, owner TEXT NOT NULL, is_app INTEGER NOT NULL,
  data TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (model, relation_id, owner, is_app));
-- Offers across models (issue 20): an offer exposes some endpoints of an application; a
-- consuming model names it by an alias (Juju's SAAS, a remote application); a cross-model
-- relation is a relation in each model, linked both ways, each side reading the other's bags.
CREATE TABLE IF NOT EXISTS offers (
  model TEXT NOT NULL, name TEXT NOT NULL, app TEXT NOT NULL, endpoints TEXT NOT NULL, created INTEGER NOT NULL,
  PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS offer_access (
  offer_model TEXT NOT NULL, offer_name TEXT NOT NULL, user TEXT NOT NULL, access TEXT NOT NULL,
  PRIMARY KEY (offer_model, offer_name, user));
CREATE TABLE IF NOT EXISTS saas (
  model TEXT NOT NULL, name TEXT NOT NULL, offer_model TEXT NOT NULL, offer_name TEXT NOT NULL, created INTEGER NOT NULL,
  PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS relation_links (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, peer_model TEXT NOT NULL, peer_relation_id INTEGER NOT NULL,
  offer_model TEXT NOT NULL, offer_name TEXT NOT NULL, remote_app TEXT NOT NULL, peer_app TEXT NOT NULL,
  PRIMARY KEY (model, relation_id));
-- Offers across controllers (issue 20). On the offering controller: the credential a consuming
-- controller holds for one offer (its hash only), minted for a user with consume access and
-- good while that user keeps it. On the consuming controller: where a consumed offer lives
-- (its controller's API, CA, the credential sealed with the secrets key) and what it offers.
-- On both: the other controller's side of each linked relation (peer_model '' in
-- relation_links), as last exchanged by the consuming controller's remote-relations worker.
CREATE TABLE IF NOT EXISTS offer_tokens (
  hash TEXT PRIMARY KEY, offer_model TEXT NOT NULL, offer_name TEXT NOT NULL, user TEXT NOT NULL,
  consumer TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS remote_offers (
  model TEXT NOT NULL, name TEXT NOT NULL, controller TEXT NOT NULL, offer_model TEXT NOT NULL,
  offer_name TEXT NOT NULL, offer_app TEXT NOT NULL, endpoints TEXT NOT NULL, meta TEXT NOT NULL,
  api_urls TEXT NOT NULL, ca_cert TEXT NOT NULL, token BLOB NOT NULL, app_status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS remote_sides (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, life TEXT NOT NULL, scope TEXT NOT NULL,
  settings TEXT NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (model, relation_id));
CREATE TABLE IF NOT EXISTS operations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL,
  name TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
  results TEXT NOT NULL DEFAULT '{}', log TEXT NOT NULL DEFAULT '[]',
  enqueued INTEGER NOT NULL, started INTEGER, completed INTEGER);
CREATE INDEX IF NOT EXISTS operations_unit ON operations (model, unit, status);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, entity TEXT NOT NULL, level TEXT NOT NULL,
  module TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS logs_model ON logs (model, id);
CREATE INDEX IF NOT EXISTS logs_model_at ON logs (model, at);
-- Users, their model access, their tokens (only hashes) and the audit trail (issue 12).
-- A user's password is an scrypt hash with its own salt ('' until registered).
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, display_name TEXT NOT NULL DEFAULT '', password_hash TEXT NOT NULL DEFAULT '',
  superuser INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL, last_login INTEGER);
-- Access is to a model's uuid, so a model added again under a destroyed one's name starts with no grants.
CREATE TABLE IF NOT EXISTS user_access (
  user TEXT NOT NULL, model_uuid TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (user, model_uuid));
CREATE TABLE IF NOT EXISTS user_tokens (
  hash TEXT PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL, expires INTEGER NOT NULL, created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS user_tokens_user ON user_tokens (user);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, user TEXT NOT NULL, address TEXT NOT NULL,
  method TEXT NOT NULL, route TEXT NOT NULL, model TEXT NOT NULL, summary TEXT NOT NULL, status INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
-- SSH keys of a model (Juju's per-model key cache), written by agents into authorized_keys;
-- and agent credentials being rotated: the new token's hash, valid beside the old one
-- until the agent first uses it (issue 12).
CREATE TABLE IF NOT EXISTS ssh_keys (
  model TEXT NOT NULL, fingerprint TEXT NOT NULL, md5 TEXT NOT NULL, comment TEXT NOT NULL,
  key TEXT NOT NULL, added_by TEXT NOT NULL, added INTEGER NOT NULL, PRIMARY KEY (model, fingerprint));
CREATE TABLE IF NOT EXISTS credential_rotations (
  model TEXT NOT NULL, machine TEXT NOT NULL, requested INTEGER NOT NULL, pending_hash TEXT,
  PRIMARY KEY (model, machine));
CREATE UNIQUE INDEX IF NOT EXISTS credential_rotations_pending ON credential_rotations (pending_hash);
-- Every agent request looks its machine up by credential: an index, not a scan of all machines.
CREATE INDEX IF NOT EXISTS machines_token ON machines (token_hash);
-- Juju secrets (issue 12). Revision content is only ever AES-256-GCM ciphertext sealed
-- with the controller's key file (state/secrets-crypto.ts); nothing here is plaintext.
-- owner_kind: model (a user secret, owner ''), application or unit.
CREATE TABLE IF NOT EXISTS secrets (
  model TEXT NOT NULL, id TEXT NOT NULL, owner_kind TEXT NOT NULL, owner TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '', label TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
  rotate_policy TEXT NOT NULL DEFAULT '', next_rotate INTEGER, latest_revision INTEGER NOT NULL,
  created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (model, id));
CREATE TABLE IF NOT EXISTS secret_revisions (
  model TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, content BLOB NOT NULL,
  expire INTEGER, created INTEGER NOT NULL, PRIMARY KEY (model, id, revision));
CREATE TABLE IF NOT EXISTS secret_grants (
  model TEXT NOT NULL, id TEXT NOT NULL, subject_kind TEXT NOT NULL, subject TEXT NOT NULL,
  relation_id INTEGER, PRIMARY KEY (model, id, subject_kind, subject));
CREATE TABLE IF NOT EXISTS secret_consumers (
  model TEXT NOT NULL, id TEXT NOT NULL, unit TEXT NOT NULL, revision INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '', PRIMARY KEY (model, id, unit));
-- Relation chaos (issue 17): relations running through a chaos proxy, with the proxies'
-- listeners (kept so they come back at the same ports after a restart), and each
-- relation's chaos epoch, which only grows: the consumer's view of the provider's bag
-- versions moves on by it, so adding and removing chaos both reach its charm.
CREATE TABLE IF NOT EXISTS chaos_relations (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, consumer TEXT NOT NULL, provider TEXT NOT NULL,
  endpoint TEXT NOT NULL, faults TEXT NOT NULL, listeners TEXT NOT NULL, created INTEGER NOT NULL,
  PRIMARY KEY (model, relation_id));
CREATE TABLE IF NOT EXISTS chaos_epochs (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (model, relation_id));
-- Rolling refresh (issue 18): a unit's own charm while a roll-out runs part of an application
-- on another revision (no row: the unit runs its application's charm), and the roll-outs,
-- each a document the rollout worker moves on step by step (it survives a restart).
CREATE TABLE IF NOT EXISTS unit_charms (
  model TEXT NOT NULL, unit TEXT NOT NULL, charm_url TEXT NOT NULL, PRIMARY KEY (model, unit));
CREATE TABLE IF NOT EXISTS rollouts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, app TEXT NOT NULL, status TEXT NOT NULL,
  doc TEXT NOT NULL, started INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rollouts_app ON rollouts (model, app, id);
-- Units a roll-out has taken out of load balancing: the other side of their \`http\`
-- relations sees \`busy: "true"\` in their bags (the haproxy charm then drains them), and the
-- relation's drain epoch (it only grows) moves those bags' versions on so the change reaches it.
CREATE TABLE IF NOT EXISTS drained_units (model TEXT NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (model, unit));
CREATE TABLE IF NOT EXISTS drain_epochs (
  model TEXT NOT NULL, relation_id INTEGER NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (model, relation_id));
-- Enlisted machines (issue 13): existing hosts taken in over SSH (Juju's manual provider).
-- Sigil never creates or deletes these hosts: the machine's agent uninstalls itself when
-- the machine is removed, and the row goes when it says so (or at once with --force when
-- its agent is away). target is user@host:port as given; hardware is what the host reported.
CREATE TABLE IF NOT EXISTS enlisted_machines (
  model TEXT NOT NULL, id TEXT NOT NULL, target TEXT NOT NULL, hardware TEXT NOT NULL,
  init TEXT NOT NULL, force_remove INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (model, id));
-- Containers on machines (issue 13): each host's next container number (N/lxc/<next>), so a
-- removed container's id is never handed out again, as in Juju.
CREATE TABLE IF NOT EXISTS container_sequences (
  model TEXT NOT NULL, host TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (model, host));
-- Software inventory (issue 19). A unit's last collection: the report without its file
-- list (data, JSON), the md5s of its files outside dpkg's ownership (files, gzipped JSON),
-- and the embedded copies last matched (embedded, JSON) with the index generation they
-- were matched against. audit_requests: collections asked of agents (requested grows;
-- done is the last one answered). The fingerprint index: releases and their files' md5s
-- (16-byte blobs) with paths relative to the release's top directory.
CREATE TABLE IF NOT EXISTS audit_reports (
  model TEXT NOT NULL, unit TEXT NOT NULL, collected_at INTEGER NOT NULL, data TEXT NOT NULL,
  files BLOB NOT NULL, embedded TEXT NOT NULL DEFAULT '[]', index_gen INTEGER NOT NULL DEFAULT -1,
  PRIMARY KEY (model, unit));
CREATE TABLE IF NOT EXISTS audit_requests (
  model TEXT NOT NULL, unit TEXT NOT NULL, requested INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  requested_at INTEGER NOT NULL, PRIMARY KEY (model, unit));
CREATE TABLE IF NOT EXISTS audit_releases (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL,
  files INTEGER NOT NULL, added INTEGER NOT NULL, UNIQUE (name, version, source));
CREATE TABLE IF NOT EXISTS audit_release_files (
  release INTEGER NOT NULL, md5 BLOB NOT NULL, path TEXT NOT NULL, PRIMARY KEY (release, path)) WITHOUT ROWID;
-- Status history (issue 20, show-status-log): every change of a unit's workload or agent
-- status, or a machine's status, recorded by triggers so no writer can forget it. A change
-- is a new status or message. Bounded per entity and kind (STATUS_HISTORY_KEEP rows), and
-- removed with its entity.
CREATE TABLE IF NOT EXISTS status_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, entity TEXT NOT NULL, kind TEXT NOT NULL,
  status TEXT NOT NULL, message TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS status_history_entity ON status_history (model, entity, kind, id);
${historyTriggers('units', 'name', 'workload', 'workload')}
${historyTriggers('units', 'name', 'agent', 'juju-unit')}
${historyTriggers('machines', 'id', 'status', 'machine')}
-- Machine annotations (issue 20: bundles' machines keep them, export-bundle writes them).
CREATE TABLE IF NOT EXISTS machine_annotations (
  model TEXT NOT NULL, id TEXT NOT NULL, annotations TEXT NOT NULL, PRIMARY KEY (model, id));
CREATE TRIGGER IF NOT EXISTS machine_annotations_gone AFTER DELETE ON machines BEGIN
  DELETE FROM machine_annotations WHERE model = OLD.model AND id = OLD.id;
END;
CREATE TRIGGER IF NOT EXISTS status_history_units_gone AFTER DELETE ON units BEGIN
  DELETE FROM status_history WHERE model = OLD.model AND entity = OLD.name AND kind IN ('workload', 'juju-unit');
END;
CREATE TRIGGER IF NOT EXISTS status_history_machines_gone AFTER DELETE ON machines BEGIN
  DELETE FROM status_history WHERE model = OLD.model AND entity = OLD.id AND kind = 'machine';
END;
-- Storage and resources (issue 20). A storage instance ('data/0') belongs to the model; unit
-- is where it is attached ('' once detached), destroy says its data goes when it detaches.
-- Ids count per store name across the model and are never reused (storage_counters).
-- Directives are each application's --storage, used for every unit it adds. A resource's
-- content is a blob under its sha384 fingerprint.
CREATE TABLE IF NOT EXISTS storage_instances (
  model TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, app TEXT NOT NULL, kind TEXT NOT NULL,
  pool TEXT NOT NULL, size INTEGER NOT NULL, unit TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',
  machine TEXT NOT NULL DEFAULT '', location TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '', life TEXT NOT NULL, destroy INTEGER NOT NULL DEFAULT 0, since INTEGER NOT NULL,
  PRIMARY KEY (model, id));
CREATE INDEX IF NOT EXISTS storage_instances_unit ON storage_instances (model, unit);
CREATE TABLE IF NOT EXISTS storage_counters (model TEXT NOT NULL, name TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS storage_directives (
  model TEXT NOT NULL, app TEXT NOT NULL, name TEXT NOT NULL, pool TEXT NOT NULL, size INTEGER NOT NULL,
  count INTEGER NOT NULL, PRIMARY KEY (model, app, name));
CREATE TABLE IF NOT EXISTS resources (
  model TEXT NOT NULL, app TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, fingerprint TEXT NOT NULL,
  size INTEGER NOT NULL, filename TEXT NOT NULL, username TEXT NOT NULL, uploaded INTEGER NOT NULL,
  PRIMARY KEY (model, app, name));
-- Day-2 operations (issue 18). Scheduled actions per model; the backup store (one per
-- controller; a restic password lives in a 0600 file beside the database, never here);
-- the artifacts copied into it; notification targets, whose webhook secret or XMPP
-- password is sealed with the controller's key (as secrets are), and their deliveries.
CREATE TABLE IF NOT EXISTS schedules (
  model TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL, action TEXT NOT NULL,
  params TEXT NOT NULL, every_ms INTEGER NOT NULL, keep INTEGER NOT NULL, next_run INTEGER NOT NULL,
  running INTEGER NOT NULL DEFAULT 0, last_run INTEGER, last_status TEXT NOT NULL DEFAULT '',
  last_message TEXT NOT NULL DEFAULT '', last_snapshot TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (model, name));
CREATE TABLE IF NOT EXISTS backup_store (
  id INTEGER PRIMARY KEY CHECK (id = 1), kind TEXT NOT NULL, location TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS backup_snapshots (
  id TEXT PRIMARY KEY, model TEXT NOT NULL, schedule TEXT NOT NULL, unit TEXT NOT NULL, app TEXT NOT NULL,
  source_path TEXT NOT NULL, store_kind TEXT NOT NULL, store_ref TEXT NOT NULL, bytes INTEGER NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS notify_targets (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, address TEXT NOT NULL, room TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '',
  events TEXT NOT NULL, secret BLOB, created INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
  last_event TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '', last_at INTEGER);
CREATE TABLE IF NOT EXISTS notify_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, event TEXT NOT NULL, body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL, created INTEGER NOT NULL);
-- Controller replicas sharing this store (PostgreSQL): each renews its row while it runs.
-- \`home\` is 0 for a replica on another host than the one its provider makes machines on.
CREATE TABLE IF NOT EXISTS controllers (
  id TEXT PRIMARY KEY, url TEXT NOT NULL, agent_url TEXT NOT NULL, started INTEGER NOT NULL, heartbeat INTEGER NOT NULL,
  home INTEGER NOT NULL DEFAULT 1);
-- Which replica holds each machine agent's connections (its rows count while its heartbeat is fresh).
CREATE TABLE IF NOT EXISTS presence (
  model TEXT NOT NULL, machine TEXT NOT NULL, replica TEXT NOT NULL, since INTEGER NOT NULL, latest INTEGER NOT NULL,
  PRIMARY KEY (model, machine, replica));
-- Worker leases: one replica acts on a lease's keys (a model, or the controller's own work)
-- until it expires; each acquisition bumps the token that fences its writes.
CREATE TABLE IF NOT EXISTS leases (
  key TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL, expires INTEGER NOT NULL);
-- Where the replica holding a model's lease published its exposed units' ports (for status on the others).
CREATE TABLE IF NOT EXISTS published_ports (
  model TEXT NOT NULL, unit TEXT NOT NULL, port INTEGER NOT NULL, host_port INTEGER NOT NULL, PRIMARY KEY (model, unit, port));
`;


/** Triggers that record a status column's changes (and its first value) as `kind` entries. */
function historyTriggers(table: string, key: string, column: string, kind: string): string {
  const values = `(NEW.model, NEW.${key}, '${kind}', COALESCE(json_extract(NEW.${column}, '$.current'), ''),
    COALESCE(json_extract(NEW.${column}, '$.message'), ''), COALESCE(json_extract(NEW.${column}, '$.data'), '{}'),
    COALESCE(json_extract(NEW.${column}, '$.since'), CAST(unixepoch('subsec') * 1000 AS INTEGER)))`;
  const bound = `DELETE FROM status_history WHERE model = NEW.model AND entity = NEW.${key} AND kind = '${kind}' AND id <= (
    SELECT id FROM status_history WHERE model = NEW.model AND entity = NEW.${key} AND kind = '${kind}' ORDER BY id DESC LIMIT 1 OFFSET ${STATUS_HISTORY_KEEP});`;
  return `CREATE TRIGGER IF NOT EXISTS status_history_${table}_${column}_new AFTER INSERT ON ${table} BEGIN
  INSERT INTO status_history (model, entity, kind, status, message, data, at) VALUES ${values};
END;
CREATE TRIGGER IF NOT EXISTS status_history_${table}_${column} AFTER UPDATE OF ${column} ON ${table}
  WHEN json_extract(NEW.${column}, '$.current') IS NOT json_extract(OLD.${column}, '$.current')
    OR json_extract(NEW.${column}, '$.message') IS NOT json_extract(OLD.${column}, '$.message') BEGIN
  INSERT INTO status_history (model, entity, kind, status, message, data, at) VALUES ${values};
  ${bound}
END;`;
}
