import readline from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Reads a password: from a prompt with echo off on a terminal (asked twice), otherwise the first
 * line of standard input. Never from the command line.
 */
export async function readPassword(input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  if (!input.isTTY) return firstLine(input);
  const first = await prompt('New password: ', input, output);
  const second = await prompt('Repeat password: ', input, output);
  if (first !== second) throw new Error('The passwords do not match.');
  return first;
}

async function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of input) {
    data += chunk.toString();
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

function prompt(question: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    // Echo goes to a stream that discards it: what is typed never appears on the screen.
    const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const rl = readline.createInterface({ input, output: silent, terminal: true });
    output.write(question);
    rl.on('line', (line) => {
      output.write('\n');
      rl.close();
      resolve(line);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new Error('Cancelled.'));
    });
  });
}
