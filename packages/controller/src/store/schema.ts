/**
 * The controller's SQLite schema. One database per controller; every row belongs to a
 * model. JSON columns hold small documents that are always read and written whole.
 * `change_log` is the spine of the design: every mutation appends to it in the same
 * transaction, and watchers resume from a revision.
 */
export const SCHEMA_VERSION = 1;

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
`;
