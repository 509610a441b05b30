export type Role = 'super_admin' | 'admin' | 'b2b_user';
export const ROLES: readonly Role[] = ['super_admin', 'admin', 'b2b_user'];
