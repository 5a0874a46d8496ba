/**
 * The published JSON Schema and the validator's field tables must name the same
 * fields, so editors and `pidpilot validate` never disagree about what exists.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIELD_TABLES } from '../../../src/config/validate/config.js';

interface SchemaDef {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
}
const schema = JSON.parse(readFileSync(new URL('../../../schema/pidpilot.schema.json', import.meta.url), 'utf8')) as {
  $schema: string;
  $ref: string;
  $defs: Record<string, SchemaDef>;
};

const objectDefs = Object.entries(schema.$defs).filter(([, d]) => d.properties !== undefined);

describe('schema/pidpilot.schema.json', () => {
  it('is draft 2020-12 and starts at the config definition', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$ref).toBe('#/$defs/config');
  });

  it('has a definition for every field table, and a table for every object definition', () => {
    expect(objectDefs.map(([name]) => name).sort()).toEqual(Object.keys(FIELD_TABLES).sort());
  });

  it.each(Object.keys(FIELD_TABLES))('$defs.%s names exactly the fields of its table', (name) => {
    const def = schema.$defs[name];
    expect(Object.keys(def.properties ?? {}).sort()).toEqual(Object.keys(FIELD_TABLES[name]).sort());
  });

  it.each(Object.keys(FIELD_TABLES))('$defs.%s refuses unknown fields and requires what the table requires', (name) => {
    const def = schema.$defs[name];
    expect(def.additionalProperties).toBe(false);
    const required = Object.entries(FIELD_TABLES[name])
      .filter(([, f]) => f.required)
      .map(([k]) => k)
      .sort();
    expect([...(def.required ?? [])].sort()).toEqual(required);
  });

  it('every $ref resolves', () => {
    const refs = JSON.stringify(schema).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of refs) {
      const target = r.slice(8, -1).replace('#/$defs/', '');
      expect(schema.$defs, r).toHaveProperty(target);
    }
  });
});
