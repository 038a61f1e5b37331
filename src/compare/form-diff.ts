/**
 * application/x-www-form-urlencoded bodies compared as fields: order of
 * different fields does not matter, encoding (`+` vs `%20`) does not matter,
 * and body rules apply to field names (`$.csrf_token`).
 */

/**
 * A field sent once becomes a string, a repeated field an array of its
 * values in order, so `$.tag[1]` addresses the second `tag=`.
 * @example parseFormFields('a=1&b=x+y&a=2') // { a: ['1', '2'], b: 'x y' }
 */
export function parseFormFields(text: string): Record<string, string | string[]> {
  // No prototype: a field named __proto__ or constructor is just a field.
  const fields = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text)) {
    const prev = fields[name];
    if (prev === undefined) fields[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else fields[name] = [prev, value];
  }
  return fields;
}
