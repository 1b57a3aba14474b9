//! The `viewdag` command line.

/// The allocator of this binary (see `mimalloc` in the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    viewdag_cli::exit::process_exits_after_command();
    std::process::exit(viewdag_cli::main_with_args(std::env::args_os()));
}
