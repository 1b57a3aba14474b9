//! The `viewdag` command line.

fn main() {
    viewdag_cli::exit::process_exits_after_command();
    std::process::exit(viewdag_cli::main_with_args(std::env::args_os()));
}
