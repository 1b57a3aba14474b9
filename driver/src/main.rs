//! The `viewdag` command line.

fn main() {
    std::process::exit(viewdag_driver::main_with_args(std::env::args_os()));
}
