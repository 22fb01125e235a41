// Numeric options over their defaults, each checked, for the cluster's components.

/** `defaults` with what `options` sets; a value that is not finite or below `min` is a RangeError naming `component`. */
export function numericSettings<S extends Record<string, number>>(component: string, defaults: S, options: Partial<Record<keyof S, number | undefined>>, min: 'positive' | 'non-negative'): S {
  const settings = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof S & string)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || (min === 'positive' ? value <= 0 : value < 0)) throw new RangeError(`${component} option ${key} must be a finite number ${min === 'positive' ? '> 0' : '≥ 0'}, got ${value}`);
    settings[key] = value as S[keyof S & string];
  }
  return settings;
}
