//! The `somebot` command line.

fn main() {}
