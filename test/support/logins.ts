import type { TestUser } from './harness.js';

/** One login against a running server; its status. */
export async function loginStatus(url: string, user: Pick<TestUser, 'username' | 'password'>): Promise<number> {
  const res = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user.username, password: user.password }) });
  await res.arrayBuffer();
  return res.status;
}

/** `count` logins with a wrong password, one after another; their statuses. */
export async function failLogins(url: string, username: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await loginStatus(url, { username, password: 'wrong-password-1' }));
  return statuses;
}
