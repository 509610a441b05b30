import type { Role } from '../users/roles.js';

declare global {
  namespace Express {
    // What passport puts on req.user after deserializing a session.
    interface User {
      id: string;
      username: string;
      role: Role;
    }
  }
}
