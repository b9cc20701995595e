//! (issue 16: being built) passwords entry points.
