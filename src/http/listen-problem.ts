/** One line saying what to do when the server cannot listen for a reason a newcomer meets, else undefined. */
export function listenProblem(error: NodeJS.ErrnoException, port: number): string | undefined {
  if (error.code === 'EADDRINUSE') return `port ${port} is in use: stop the other process or set PORT`;
  if (error.code === 'EACCES') return `port ${port} needs privileges this user lacks: set PORT to 1024 or above (nginx can listen on 80 and 443)`;
  return undefined;
}
