import { describe, expect, it } from 'vitest';
import { fieldOfDownstream, fieldOfViolation, messageOfViolation } from './fields.js';

describe('fieldOfViolation', () => {
  it('prefixes the location in OpenAPI words', () => {
    const v = { instancePath: '/salience', keyword: 'maximum', params: {} };
    expect(fieldOfViolation('body', v)).toBe('body.salience');
    expect(fieldOfViolation('querystring', { ...v, instancePath: '/pageSize' })).toBe('query.pageSize');
    expect(fieldOfViolation('params', { ...v, instancePath: '/id' })).toBe('path.id');
    expect(fieldOfViolation('headers', { ...v, instancePath: '/x' })).toBe('header.x');
  });

  it('names the missing or unknown property, not its parent', () => {
    expect(fieldOfViolation('body', { instancePath: '', keyword: 'required', params: { missingProperty: 'content' } })).toBe('body.content');
    expect(fieldOfViolation('body', { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'colour' } })).toBe(
      'body.colour',
    );
  });

  it('writes array indexes as segments and unescapes JSON pointers', () => {
    expect(fieldOfViolation('body', { instancePath: '/tags/3', keyword: 'maxLength', params: {} })).toBe('body.tags.3');
    expect(fieldOfViolation('body', { instancePath: '/a~1b/c~0d', keyword: 'type', params: {} })).toBe('body.a/b.c~d');
  });

  it('names the whole part when the body itself is wrong', () => {
    expect(fieldOfViolation('body', { instancePath: '', keyword: 'type', params: {} })).toBe('body');
  });
});

describe('messageOfViolation', () => {
  it('says what is wrong without repeating the field', () => {
    expect(messageOfViolation({ instancePath: '', keyword: 'required', params: {}, message: "must have required property 'x'" })).toBe('is required');
    expect(messageOfViolation({ instancePath: '', keyword: 'additionalProperties', params: {} })).toBe('is not allowed');
    expect(messageOfViolation({ instancePath: '/a', keyword: 'maximum', params: {}, message: 'must be <= 1' })).toBe('must be <= 1');
  });
});

describe('fieldOfDownstream', () => {
  const declared = { path: ['id'], query: ['query', 'pageSize', 'pageToken'], body: ['salience', 'entityId'] };

  it('converts proto names to lowerCamelCase and finds their location', () => {
    expect(fieldOfDownstream('page_size', declared)).toBe('query.pageSize');
    expect(fieldOfDownstream('entity_id', declared)).toBe('body.entityId');
    expect(fieldOfDownstream('id', declared)).toBe('path.id');
    expect(fieldOfDownstream('salience', declared)).toBe('body.salience');
  });

  it('prefers a route alias', () => {
    expect(fieldOfDownstream('entity_id', { path: ['id'] }, { entityId: 'path.id' })).toBe('path.id');
    expect(fieldOfDownstream('page.page_token', declared, { 'page.pageToken': 'query.pageToken' })).toBe('query.pageToken');
  });

  it('keeps nested paths and falls back to the bare name', () => {
    expect(fieldOfDownstream('salience.value_x', declared)).toBe('body.salience.valueX');
    expect(fieldOfDownstream('some_thing', declared)).toBe('someThing');
  });
});
