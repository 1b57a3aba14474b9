//! The `viewdag` command line.

fn main() {
    std::process::exit(viewdag_cli::main_with_args(std::env::args_os()));
}
