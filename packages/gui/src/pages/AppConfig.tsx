import { useEffect, useState } from 'react';
import type { ApplicationConfig } from '@sigil/api';
import type { ConfigOption, ConfigValue } from '@sigil/core';
import { useApp } from '../app-context.tsx';
import { checkConfigForm, formValue, type FieldError } from '../store/forms.ts';
import { ConfigFields } from './ConfigFields.tsx';

/** An application's configuration, edited in place and checked before it is sent (shown read-only to read users). */
export function AppConfig({ app, options }: { app: string; options: Record<string, ConfigOption> }) {
  const { api, model, report, notify, feed, canWrite } = useApp();
  const [current, setCurrent] = useState<Record<string, ConfigValue | undefined>>({});
  const [form, setForm] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<Record<string, FieldError>>({});
  const [dirty, setDirty] = useState(false);
  const params = { model, app };
  const reload = () => {
    api.request('GET /api/models/:model/applications/:app/config', { params }).then(load, report);
  };

  const load = (doc: ApplicationConfig) => {
    const values = Object.fromEntries(Object.entries(doc.settings).map(([k, s]) => [k, s.value]));
    setCurrent(values);
    setForm(Object.fromEntries(Object.entries(options).map(([k, o]) => [k, formValue(o, values[k])])));
    setErrors({});
    setDirty(false);
  };
  // Reloaded when the application changes (someone else may have set its config), unless being edited.
  const appDoc = feed.state.model?.apps[app];
  useEffect(() => {
    if (!dirty) reload();
  }, [appDoc, model, app]);

  const save = () => {
    const { set, reset, errors } = checkConfigForm(options, form, current);
    setErrors(errors);
    if (Object.keys(errors).length > 0) return;
    if (Object.keys(set).length === 0 && reset.length === 0) return notify('Nothing to change');
    api.request('POST /api/models/:model/applications/:app/config', { params, body: { set, reset } }).then((doc) => {
      load(doc);
      notify(`Configuration of ${app} saved`);
    }, report);
  };
  return (
    <form className="app-config" onSubmit={(e) => { e.preventDefault(); save(); }} data-testid="config-form">
      <h3>Configuration</h3>
      <ConfigFields options={options} form={form} errors={errors} readOnly={!canWrite} onChange={(k, v) => { setForm({ ...form, [k]: v }); setErrors(({ [k]: _, ...rest }) => rest); setDirty(true); }} />
      {canWrite && (
        <>
          <button type="submit" disabled={!dirty} data-testid="config-save">Save</button>{' '}
          <button type="button" disabled={!dirty} onClick={reload}>Discard</button>
        </>
      )}
    </form>
  );
}
