//! (issue 16: being built) password options.
