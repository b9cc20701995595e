// (issue 16: being built) password typings.
export {}
