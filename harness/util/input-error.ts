// The error for bad input (an option, an environment variable, a file the user named): its message is
// one line that names the input and says what to do. The CLI prints it as is and exits 2.
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
