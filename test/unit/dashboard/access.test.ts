import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Access, isLoopback } from '../../../src/dashboard/access.js';

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('who may act on the dashboard', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('on loopback: actions on, with the page header only, and only for a loopback Host', () => {
    const a = new Access({ listen: '127.0.0.1', allowActions: false });
    expect(a.actions).toBe('on');
    expect(a.actionProblem(req({}))).toMatch(/did not come from the dashboard page/);
    expect(a.actionProblem(req({ 'x-pidpilot-csrf': 'guess' }))).toMatch(/did not come from the dashboard page/);
    expect(a.actionProblem(req({ 'x-pidpilot-csrf': a.csrf }))).toBeNull();
    expect(a.hostProblem(req({ host: '127.0.0.1:8090' }))).toBeNull();
    expect(a.hostProblem(req({ host: 'localhost' }))).toBeNull();
    expect(a.hostProblem(req({ host: 'evil.example:8090' }))).toMatch(/loopback host name/);
  });

  it('beyond loopback: actions off unless allowed or a token is set; any Host', () => {
    const off = new Access({ listen: '0.0.0.0', allowActions: false });
    expect(off.actions).toBe('off');
    expect(off.actionProblem(req({ 'x-pidpilot-csrf': off.csrf }))).toMatch(/--allow-actions or --token/);
    expect(off.hostProblem(req({ host: 'box.example:8090' }))).toBeNull();
    const allowed = new Access({ listen: '0.0.0.0', allowActions: true });
    expect(allowed.actionProblem(req({ 'x-pidpilot-csrf': allowed.csrf }))).toBeNull();
    const token = new Access({ listen: '0.0.0.0', allowActions: false, token: 's3cret' });
    expect(token.actions).toBe('token');
    expect(token.actionProblem(req({ 'x-pidpilot-csrf': token.csrf }))).toMatch(/wrong or missing token/);
    expect(token.actionProblem(req({ 'x-pidpilot-csrf': token.csrf, 'x-pidpilot-token': 's3cre' }))).toMatch(
      /wrong or missing token/,
    );
    expect(token.actionProblem(req({ 'x-pidpilot-csrf': token.csrf, 'x-pidpilot-token': 's3cret' }))).toBeNull();
    expect(new Access({ listen: '0.0.0.0', allowActions: false }).csrf).not.toBe(off.csrf);
  });
});
