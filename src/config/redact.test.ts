import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from './redact.js';

describe('redactUrl', () => {
  it('hides user and password and keeps the host, path and other parameters', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/app?sslmode=require&password=s3cret')).toBe('postgres://<credentials>@db:5432/app?sslmode=require&password=<hidden>');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(redactUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  });
});

describe('redactText', () => {
  it('hides a configured URL the URL parser cannot read, and the user info of any other URL, in a message', () => {
    const env = { DATABASE_URL: 'postgres://app:pa/ss@db/app' };
    const text = redactText('cannot connect to postgres://app:pa/ss@db/app (also tried redis://:s3cret@cache:6379)', env);
    expect(text).toBe('cannot connect to postgres://<credentials>@db/app (also tried redis://<credentials>@cache:6379)');
  });
});
