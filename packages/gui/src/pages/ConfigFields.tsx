import type { ConfigOption } from '@sigil/core';
import type { FieldError } from '../store/forms.ts';

/** One input per config.yaml option, typed by the option: checkbox, number or text. */
export function ConfigFields({ options, form, errors, onChange, defaults, readOnly }: {
  options: Record<string, ConfigOption>;
  form: Record<string, string | boolean>;
  errors: Record<string, FieldError>;
  onChange: (key: string, value: string | boolean) => void;
  /** Shows each option's default as the placeholder. */
  defaults?: boolean;
  /** Values shown, not editable. */
  readOnly?: boolean;
}) {
  return (
    <div className="config-fields">
      {Object.entries(options).sort(([a], [b]) => a.localeCompare(b)).map(([key, o]) => {
        const err = errors[key];
        const id = `cfg-${key}`;
        return (
          <div key={key} className={`field${err ? ' invalid' : ''}`}>
            <label htmlFor={id}>
              {key} <span className="muted">({o.type})</span>
            </label>
            {o.type === 'boolean' ? (
              <input id={id} type="checkbox" checked={form[key] === true} disabled={readOnly} onChange={(e) => onChange(key, e.target.checked)} data-testid={id} />
            ) : (
              <input
                id={id}
                type={o.type === 'secret' ? 'password' : 'text'}
                inputMode={o.type === 'int' || o.type === 'float' ? 'decimal' : undefined}
                value={String(form[key] ?? '')}
                readOnly={readOnly}
                placeholder={defaults && o.default !== undefined ? String(o.default) : ''}
                onChange={(e) => onChange(key, e.target.value)}
                data-testid={id}
              />
            )}
            {o.description && <div className="description">{o.description}</div>}
            {err && (
              <div className="error" data-testid={`${id}-error`}>
                {err.message}
                {err.hint && <div className="hint">hint: {err.hint}</div>}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
