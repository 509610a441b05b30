import path from 'node:path';
import { createLogger } from '../observability/logger.js';
import { makeUser, tempDir } from '../../test/support/harness.js';
import { userDirectoryContract } from '../../test/support/user-directory-contract.js';
import { FileUserDirectory } from './file-directory.js';
import { writeUsersFile } from './users-file.js';

userDirectoryContract('file', async () => {
  const file = path.join(await tempDir(), 'users.json');
  await writeUsersFile(file, [
    await makeUser({ username: 'carol', password: 'carol-password', role: 'admin', email: 'carol@example.com' }),
    await makeUser({ username: 'dave', password: 'dave-password', role: 'b2b_user', disabled: true }),
  ]);
  return FileUserDirectory.open({ file, logger: createLogger('silent') });
});
