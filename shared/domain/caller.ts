/**
 * Who is calling: the subject, tenant and roles that a verified token carries. The tenant
 * always comes from the token, never from the request.
 */
/**
 * `admin` and `sender` act within their tenant; `operator` runs the deployment itself: it may read
 * and redrive the dead-letter queues, which every tenant shares.
 */
export const roles = ['admin', 'sender', 'operator'] as const;
export type Role = (typeof roles)[number];

export interface Caller {
  readonly sub: string;
  readonly tenantId: string;
  readonly roles: readonly Role[];
}

/** True for callers who may manage the directory and notify anyone in their tenant. */
export function canManageTenant(caller: Caller): boolean {
  return caller.roles.includes('admin') || caller.roles.includes('sender');
}

/** True for tenant administrators. */
export function isAdmin(caller: Caller): boolean {
  return caller.roles.includes('admin');
}

/** True for the deployment's operators (the shared dead-letter queues). */
export function isOperator(caller: Caller): boolean {
  return caller.roles.includes('operator');
}
