/**
 * How problems name request fields (docs/errors.md): `<location>.<path>`, where location is
 * `body`, `query`, `path` or `header` (OpenAPI's words) and path is the dotted member path in
 * lowerCamelCase with array indexes as segments, for example `body.salience`,
 * `query.pageSize`, `path.id`, `body.tags.3`.
 */

/** Fastify's name of a request part to the location used in field names. */
const LOCATIONS: Readonly<Record<string, string>> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** The parts of an Ajv error the gateway reads. */
export interface SchemaViolation {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/** The location name for a Fastify request part (`querystring` → `query`). */
export function locationOf(part: string | undefined): string {
  return (part && LOCATIONS[part]) ?? part ?? 'request';
}

/** The field a schema violation is about, for example `body.salience` or `body.unknown`. */
export function fieldOfViolation(part: string | undefined, violation: SchemaViolation): string {
  const segments = violation.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  // For these keywords Ajv reports the parent object; the field is the named property.
  const property =
    violation.keyword === 'required'
      ? violation.params['missingProperty']
      : violation.keyword === 'additionalProperties'
        ? violation.params['additionalProperty']
        : undefined;
  if (typeof property === 'string') segments.push(property);
  return [locationOf(part), ...segments].join('.');
}

/** A short message for a schema violation, without the field name. */
export function messageOfViolation(violation: SchemaViolation): string {
  if (violation.keyword === 'required') return 'is required';
  if (violation.keyword === 'additionalProperties') return 'is not allowed';
  return violation.message ?? 'is invalid';
}

const camel = (segment: string): string => segment.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The property names a route's schema declares in each location. */
export type DeclaredFields = Readonly<Partial<Record<'path' | 'query' | 'body', readonly string[]>>>;

/**
 * Names, in the gateway's convention, a field a downstream service reported (proto field
 * names such as `page_size` or `entity_id`). `aliases` maps the lowerCamelCase downstream name
 * to a field when the HTTP shape differs (for example `entityId` → `path.id`). Otherwise the
 * first segment is looked up among the route's declared path, query and body fields. A field
 * the gateway cannot place is returned in lowerCamelCase without a location.
 */
export function fieldOfDownstream(field: string, declared: DeclaredFields, aliases: Readonly<Record<string, string>> = {}): string {
  const name = field.split('.').map(camel).join('.');
  const alias = aliases[name];
  if (alias !== undefined) return alias;
  const first = name.split('.')[0] ?? name;
  for (const location of ['path', 'query', 'body'] as const) {
    if (declared[location]?.includes(first)) return `${location}.${name}`;
  }
  return name;
}
