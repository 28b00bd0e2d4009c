// An error meant for the user: printed as one line, `redisfs: <message>`, exit code 1.
export class CliError extends Error {
  override name = 'CliError';
}
