import { SigilError, checkApplicationName, coerceConfigValue, type ConfigOption, type ConfigValue } from '@sigil/core';

export interface FieldError {
  message: string;
  hint?: string;
}

/**
 * Config form values (as typed, strings; booleans as booleans) checked by the same rules
 * as `sigil config app k=v`. Only fields that differ from `current` are returned, so an
 * untouched form changes nothing; an emptied field with a default means "reset".
 */
export function checkConfigForm(
  options: Record<string, ConfigOption>,
  form: Record<string, string | boolean>,
  current: Record<string, ConfigValue | undefined>,
): { set: Record<string, ConfigValue>; reset: string[]; errors: Record<string, FieldError> } {
  const set: Record<string, ConfigValue> = {};
  const reset: string[] = [];
  const errors: Record<string, FieldError> = {};
  for (const [key, raw] of Object.entries(form)) {
    const option = options[key];
    if (option === undefined) continue;
    if (raw === '' && option.type !== 'string') {
      if (current[key] !== undefined && current[key] !== option.default) reset.push(key);
      continue;
    }
    try {
      const value = typeof raw === 'boolean' ? raw : coerceConfigValue(key, option, raw);
      if (value !== current[key]) set[key] = value;
    } catch (e) {
      errors[key] = e instanceof SigilError ? { message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) } : { message: String(e) };
    }
  }
  return { set, reset, errors };
}

/** What a config field shows: the value as text (booleans stay booleans). */
export function formValue(option: ConfigOption, value: ConfigValue | undefined): string | boolean {
  if (option.type === 'boolean') return value === true;
  return value === undefined ? '' : String(value);
}

/** An application name the deploy form suggests: the charm name, numbered if taken. */
export function suggestAppName(charm: string, taken: ReadonlySet<string>): string {
  if (!taken.has(charm)) return charm;
  for (let i = 2; ; i++) if (!taken.has(`${charm}-${i}`)) return `${charm}-${i}`;
}

/** Juju's application name rule, checked before the request so the form can say why. */
export function checkAppName(name: string): FieldError | undefined {
  try {
    checkApplicationName(name);
    return undefined;
  } catch (e) {
    return e instanceof SigilError ? { message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) } : { message: String(e) };
  }
}
