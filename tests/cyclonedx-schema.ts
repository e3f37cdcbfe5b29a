import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

/**
 * A validator for CycloneDX 1.6 JSON built offline from the schema files shipped inside
 * @cyclonedx/cyclonedx-library, compiled with ajv. Its companions (SPDX licence ids, JSF,
 * crypto definitions) are registered under the SNAPSHOT names the BOM schema refers to.
 */
export function cyclonedxValidator(): { validate: (doc: unknown) => boolean; errors: () => string } {
  const require = createRequire(import.meta.url);
  const schemaDir = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res/schema');
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Formats ajv-formats lacks; the library's own validator accepts them without its optional plugin too.
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  for (const f of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json', 'cryptography-defs.SNAPSHOT.schema.json']) {
    const { $id: _id, ...schema } = JSON.parse(readFileSync(join(schemaDir, f), 'utf8')) as Record<string, unknown>;
    ajv.addSchema(schema, `http://cyclonedx.org/schema/${f}`);
  }
  const v = ajv.compile(JSON.parse(readFileSync(join(schemaDir, 'bom-1.6.SNAPSHOT.schema.json'), 'utf8')) as object);
  return { validate: (doc) => v(doc) === true, errors: () => JSON.stringify(v.errors?.slice(0, 5)) };
}
