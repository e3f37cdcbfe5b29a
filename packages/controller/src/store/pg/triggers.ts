import { STATUS_HISTORY_KEEP } from '../schema.ts';

/**
 * The schema's triggers in PL/pgSQL, doing what the SQLite ones in store/schema.ts do: a
 * unit's workload and agent status and a machine's status are recorded in `status_history`
 * when they first appear and whenever their status or message changes (bounded per entity
 * and kind), and an entity's history and annotations go with it.
 */
export const PG_TRIGGERS = `
CREATE OR REPLACE FUNCTION sigil_status_history() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  v_kind text := TG_ARGV[0];
  v_entity text := to_jsonb(NEW) ->> TG_ARGV[2];
  v_new json := (to_jsonb(NEW) ->> TG_ARGV[1])::json;
  v_old json;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    v_old := (to_jsonb(OLD) ->> TG_ARGV[1])::json;
    IF (v_new ->> 'current') IS NOT DISTINCT FROM (v_old ->> 'current')
      AND (v_new ->> 'message') IS NOT DISTINCT FROM (v_old ->> 'message') THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO status_history (model, entity, kind, status, message, data, at) VALUES (
    NEW.model, v_entity, v_kind, COALESCE(v_new ->> 'current', ''), COALESCE(v_new ->> 'message', ''),
    COALESCE(v_new ->> 'data', '{}'),
    COALESCE((v_new ->> 'since')::numeric::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint));
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM status_history h WHERE h.model = NEW.model AND h.entity = v_entity AND h.kind = v_kind AND h.id <= (
      SELECT id FROM status_history WHERE model = NEW.model AND entity = v_entity AND kind = v_kind
      ORDER BY id DESC LIMIT 1 OFFSET ${STATUS_HISTORY_KEEP});
  END IF;
  RETURN NULL;
END $fn$;
CREATE OR REPLACE TRIGGER status_history_units_workload AFTER INSERT OR UPDATE OF workload ON units
  FOR EACH ROW EXECUTE FUNCTION sigil_status_history('workload', 'workload', 'name');
CREATE OR REPLACE TRIGGER status_history_units_agent AFTER INSERT OR UPDATE OF agent ON units
  FOR EACH ROW EXECUTE FUNCTION sigil_status_history('juju-unit', 'agent', 'name');
CREATE OR REPLACE TRIGGER status_history_machines_status AFTER INSERT OR UPDATE OF status ON machines
  FOR EACH ROW EXECUTE FUNCTION sigil_status_history('machine', 'status', 'id');

CREATE OR REPLACE FUNCTION sigil_unit_gone() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM status_history WHERE model = OLD.model AND entity = OLD.name AND kind IN ('workload', 'juju-unit');
  RETURN NULL;
END $fn$;
CREATE OR REPLACE TRIGGER status_history_units_gone AFTER DELETE ON units FOR EACH ROW EXECUTE FUNCTION sigil_unit_gone();

CREATE OR REPLACE FUNCTION sigil_machine_gone() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM machine_annotations WHERE model = OLD.model AND id = OLD.id;
  DELETE FROM status_history WHERE model = OLD.model AND entity = OLD.id AND kind = 'machine';
  RETURN NULL;
END $fn$;
CREATE OR REPLACE TRIGGER machines_gone AFTER DELETE ON machines FOR EACH ROW EXECUTE FUNCTION sigil_machine_gone();
`;
